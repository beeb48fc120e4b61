using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lab19.ServiceDefaults;

/// <summary>
/// The logger factory a service gives EF Core, so that a failure the service answers as an expected outcome (a duplicate email's 409,
/// a lost idempotency race) logs no Error with its SQL and stack, while every other failure is logged as EF logs it.
/// EF's "SaveChanges failed" event carries the exception: it is written at Debug when the service handles that kind of failure.
/// EF's "Failed executing DbCommand" event (with the SQL) carries none: inside <see cref="HoldCommandErrors"/> it waits for the
/// "SaveChanges failed" event of the same save, and is then dropped with it or written as it was.
/// EF's "error using the connection" event during a request whose client has gone away (the open was cancelled with the request) is
/// written at Debug: EF writes a cancelled command at Debug, but a cancelled open as an Error, and without the exception that would tell.
/// </summary>
// Hand-written: EF Core's ConfigureWarnings sets an event's level for every occurrence of it, not for one kind of exception.
public sealed class HandledFailureLogging(ILoggerFactory inner, IHttpContextAccessor requests, Func<Exception, bool>? isHandled = null) : ILoggerFactory
{
    private static readonly AsyncLocal<Held?> Current = new();

    /// <summary>Around a SaveChanges whose failure may be an outcome the caller handles (see the class summary).</summary>
    public static IDisposable HoldCommandErrors() => Current.Value = new Held(Current.Value);

    public ILogger CreateLogger(string categoryName) => new Logger(inner.CreateLogger(categoryName), requests, isHandled ?? (_ => false));

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

    private sealed class Logger(ILogger inner, IHttpContextAccessor requests, Func<Exception, bool> isHandled) : ILogger
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
            if (eventId.Id == RelationalEventId.ConnectionError.Id && requests.HttpContext?.RequestAborted.IsCancellationRequested == true)
            {
                logLevel = LogLevel.Debug;
            }
            if (eventId.Id == CoreEventId.SaveChangesFailed.Id && exception is not null)
            {
                var handled = Any(exception, isHandled);
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

        private static bool Any(Exception exception, Func<Exception, bool> test)
        {
            for (var e = exception; e is not null; e = e.InnerException)
            {
                if (test(e)) return true;
            }
            return false;
        }
    }
}

public static class HandledFailureLoggingExtensions
{
    /// <summary>Gives EF Core a <see cref="HandledFailureLogging"/> over the application's loggers (needs <c>AddHttpContextAccessor</c>).</summary>
    public static DbContextOptionsBuilder UseHandledFailureLogging(this DbContextOptionsBuilder options, IServiceProvider services, Func<Exception, bool>? isHandled = null) =>
        options.UseLoggerFactory(new HandledFailureLogging(services.GetRequiredService<ILoggerFactory>(), services.GetRequiredService<IHttpContextAccessor>(), isHandled));
}
