using MySqlConnector;
using PointService.Data;

namespace Lab19.Tests;

/// <summary>How point-service connects to MySQL: plaintext (so that Beyla can read the SQL) and short timeouts, unless its connection string says otherwise.</summary>
public class PointsConnectionTests
{
    [Fact]
    public void Without_options_of_its_own_the_connection_is_plaintext_with_key_retrieval_and_the_lab_timeouts()
    {
        var csb = new MySqlConnectionStringBuilder(PointsDatabase.ConnectionString("Server=db;User ID=lab;Password=secret;Database=pointdb"));

        Assert.Equal((MySqlSslMode.None, true), (csb.SslMode, csb.AllowPublicKeyRetrieval));
        Assert.Equal((2u, 2u), (csb.ConnectionTimeout, csb.DefaultCommandTimeout));
        Assert.Equal(("db", "lab", "secret", "pointdb"), (csb.Server, csb.UserID, csb.Password, csb.Database));
    }

    [Theory]
    [InlineData("SslMode=Required", MySqlSslMode.Required, false)]
    [InlineData("Ssl Mode=VerifyFull;AllowPublicKeyRetrieval=true", MySqlSslMode.VerifyFull, true)]
    [InlineData("sslmode=None;allowpublickeyretrieval=false", MySqlSslMode.None, false)]
    public void Options_the_connection_string_sets_are_kept(string options, MySqlSslMode sslMode, bool keyRetrieval)
    {
        var csb = new MySqlConnectionStringBuilder(PointsDatabase.ConnectionString($"Server=db;Database=pointdb;{options};Connection Timeout=7;Default Command Timeout=9"));

        Assert.Equal((sslMode, keyRetrieval), (csb.SslMode, csb.AllowPublicKeyRetrieval));
        Assert.Equal((7u, 9u), (csb.ConnectionTimeout, csb.DefaultCommandTimeout));
    }
}
