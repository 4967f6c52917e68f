namespace Deisa.Core.Tests.Fixtures;

/// <summary>Files of the repository the tests read (the ABI's description, the tables of cases, the sources).</summary>
internal static class Repository
{
    /// <summary>The checkout's root (where Deisa.sln is).</summary>
    public static string Root
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Deisa.sln"))) return d.FullName;
            throw new InvalidOperationException("Deisa.sln not found above the test's directory");
        }
    }

    /// <summary>A file's path from the root, e.g. "tests/cases/sizes.json".</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative);
}
