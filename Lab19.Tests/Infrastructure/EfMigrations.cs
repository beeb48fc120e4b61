// EfMigrations: the EF Core migrations a built service defines, read from its assembly's metadata (the tests do not load it).
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Lab19.Tests.Infrastructure;

public static class EfMigrations
{
    /// <summary>The ids in the <c>[Migration("…")]</c> attributes of <paramref name="service"/>'s build output, in order.</summary>
    public static IReadOnlyList<string> DefinedIn(string service)
    {
        using var pe = new PEReader(File.OpenRead(Path.Combine(Repo.BuildOutput(service), $"{service}.dll")));
        var metadata = pe.GetMetadataReader();
        var ids = new List<string>();
        foreach (var handle in metadata.CustomAttributes)
        {
            var attribute = metadata.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != HandleKind.MemberReference) continue;
            var parent = metadata.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent;
            if (parent.Kind != HandleKind.TypeReference) continue;
            var type = metadata.GetTypeReference((TypeReferenceHandle)parent);
            if (metadata.GetString(type.Namespace) != "Microsoft.EntityFrameworkCore.Migrations" || metadata.GetString(type.Name) != "MigrationAttribute") continue;
            var value = metadata.GetBlobReader(attribute.Value);
            value.ReadUInt16(); // the custom attribute blob's prolog
            ids.Add(value.ReadSerializedString()!);
        }
        return [.. ids.Order(StringComparer.Ordinal)];
    }
}
