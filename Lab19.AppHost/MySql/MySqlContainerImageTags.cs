namespace Aspire.Hosting.MySql;

/// <summary>The image the MySQL server runs; the lab pins its own tag (Aspire.Hosting.MySql would bring its own).</summary>
internal static class MySqlContainerImageTags
{
    public const string Registry = "docker.io";

    public const string Image = "library/mysql";

    public const string Tag = "8.4";
}
