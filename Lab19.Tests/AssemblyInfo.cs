using Lab19.Tests.Infrastructure;

[assembly: AssemblyFixture(typeof(SharedDatabases))]
