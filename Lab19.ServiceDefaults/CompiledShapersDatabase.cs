using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Query;
using Microsoft.EntityFrameworkCore.Storage;

namespace Lab19.ServiceDefaults;

/// <summary>
/// EF Core's relational database service, with the delegates inside a query's executor compiled once, when the query is compiled.
/// EF Core 9 builds each executor as one expression tree with its shaper (and other helpers) as nested lambdas, in preparation for
/// precompiled queries; .NET compiles a nested lambda to code that makes a new delegate with <c>DynamicMethod.CreateDelegate</c> every
/// time the executor runs (EF Core 8 passed the compiled shaper as a constant). On every query that costs more than the rest of EF's
/// own work (bench/README.md). A nested lambda that uses nothing of the lambdas around it is compiled here and passed as a constant,
/// as EF Core 8 did; everything else is EF's own code path. Registered by both services' <c>UseXxxDatabase</c>.
/// </summary>
// Hand-written: EF Core 9 has no option for it (dotnet/efcore#35210 tracks the shaper's costs), and no package changes it.
// EF9100: the executor's expression and SupportsPrecompiledQuery are marked for evaluation (EF's precompiled queries use them).
#pragma warning disable EF1001, EF9100
public sealed class CompiledShapersDatabase(
    DatabaseDependencies dependencies, RelationalDatabaseDependencies relationalDependencies, ILiftableConstantProcessor liftableConstants, ICurrentDbContext current)
    : RelationalDatabase(dependencies, relationalDependencies)
{
    public override Func<QueryContext, TResult> CompileQuery<TResult>(Expression query, bool async)
    {
        var context = Dependencies.QueryCompilationContextFactory.Create(async);
        var executor = context.CreateQueryExecutorExpression<TResult>(query);
        // As QueryCompilationContext.CreateQueryExecutor does: EF's liftable constants become constants first.
        var inlined = (Expression<Func<QueryContext, TResult>>)liftableConstants.InlineConstants(executor, context.SupportsPrecompiledQuery);
        try
        {
            return Expression.Lambda<Func<QueryContext, TResult>>(new ClosedLambdas().Visit(inlined.Body), inlined.Parameters).Compile();
        }
        finally
        {
            context.Logger.QueryExecutionPlanned(current.Context, new ExpressionPrinter(), executor);
        }
    }

    /// <summary>Replaces every nested lambda that references no variable of an enclosing scope by a constant of its compiled delegate.</summary>
    private sealed class ClosedLambdas : ExpressionVisitor
    {
        protected override Expression VisitLambda<T>(Expression<T> node)
        {
            var lambda = (Expression<T>)base.VisitLambda(node);
            return FreeVariables.Of(lambda) ? lambda : Expression.Constant(lambda.Compile(), typeof(T));
        }
    }

    /// <summary>Whether an expression references a parameter or variable it does not declare itself.</summary>
    private sealed class FreeVariables : ExpressionVisitor
    {
        private readonly HashSet<ParameterExpression> _declared = [];
        private bool _found;

        public static bool Of(LambdaExpression lambda)
        {
            var visitor = new FreeVariables();
            visitor.Visit(lambda);
            return visitor._found;
        }

        protected override Expression VisitLambda<T>(Expression<T> node)
        {
            _declared.UnionWith(node.Parameters);
            return base.VisitLambda(node);
        }

        protected override Expression VisitBlock(BlockExpression node)
        {
            _declared.UnionWith(node.Variables);
            return base.VisitBlock(node);
        }

        protected override CatchBlock VisitCatchBlock(CatchBlock node)
        {
            if (node.Variable is not null) _declared.Add(node.Variable);
            return base.VisitCatchBlock(node);
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            _found |= !_declared.Contains(node);
            return node;
        }

        protected override Expression VisitExtension(Expression node)
        {
            _found = true; // not reducible here: leave the lambda as EF built it
            return node;
        }
    }
}
#pragma warning restore EF1001, EF9100
