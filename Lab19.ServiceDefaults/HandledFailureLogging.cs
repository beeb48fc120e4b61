using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Lab19.ServiceDefaults;

/// <summary>
/// The logger factory a service gives EF Core, so that a failure the service answers as an expected outcome (a duplicate email's 409,
/// a lost idempotency race) logs no Error with its SQL and stack, while every other failure is logged as EF logs it.
/// EF's "SaveChanges failed" event carries the exception: it is written at Debug when the service handles that kind of failure.
/// EF's "Failed executing DbCommand" event (with the SQL) carries none: inside <see cref="HoldCommandErrors"/> it waits for the
/// "SaveChanges failed" event of the same save, and is then dropped with it or written as it was.
/// </summary>
// Hand-written: EF Core's ConfigureWarnings sets an event's level for every occurrence of it, not for one kind of exception.
public sealed class HandledFailureLogging(ILoggerFactory inner, Func<Exception, bool> isHandled) : ILoggerFactory
{
    private static readonly AsyncLocal<Held?> Current = new();

    /// <summary>Around a SaveChanges whose failure may be an outcome the caller handles (see the class summary).</summary>
    public static IDisposable HoldCommandErrors() => Current.Value = new Held(Current.Value);

    public ILogger CreateLogger(string categoryName) => new Logger(inner.CreateLogger(categoryName), isHandled);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // the application's factory is the host's to dispose
    }

    /// <summary>Command errors held for one save; whatever is still held when the scope ends is written.</summary>
    private sealed class Held(Held? outer) : IDisposable
    {
        private readonly List<Action> _pending = [];

        public void Add(Action write) { lock (_pending) _pending.Add(write); }

        public void Drop() { lock (_pending) _pending.Clear(); }

        public void Flush()
        {
            Action[] pending;
            lock (_pending)
            {
                pending = [.. _pending];
                _pending.Clear();
            }
            foreach (var write in pending) write();
        }

        public void Dispose()
        {
            Flush();
            Current.Value = outer;
        }
    }

    private sealed class Logger(ILogger inner, Func<Exception, bool> isHandled) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == RelationalEventId.CommandError.Id && Current.Value is { } held)
            {
                held.Add(() => inner.Log(logLevel, eventId, state, exception, formatter));
                return;
            }
            if (eventId.Id == CoreEventId.SaveChangesFailed.Id && exception is not null)
            {
                var handled = Handled(exception);
                if (handled) logLevel = LogLevel.Debug;
                if (Current.Value is { } save)
                {
                    if (handled) save.Drop(); else save.Flush();
                }
            }
            if (inner.IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }

        private bool Handled(Exception exception)
        {
            for (var e = exception; e is not null; e = e.InnerException)
            {
                if (isHandled(e)) return true;
            }
            return false;
        }
    }
}
