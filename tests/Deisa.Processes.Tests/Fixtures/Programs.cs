using System.Reflection;

namespace Deisa.Processes.Tests.Fixtures;

/// <summary>Where the programs the tests launch were built (the same configuration as the tests).</summary>
internal static class Programs
{
    private static string Metadata(string key) =>
        typeof(Programs).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    /// <summary>The repository's root directory.</summary>
    public static string Repository => Metadata("DeisaRepository");

    public static string HeatSimulation => Dll("examples/csharp/HeatSimulation", "HeatSimulation");

    public static string HeatAnalytics => Dll("examples/csharp/HeatAnalytics", "HeatAnalytics");

    public static string TestSimulation => Dll("tests/Deisa.Processes.Tests/TestSimulation", "TestSimulation");

    /// <summary>The <c>dotnet</c> host running the tests (the SDK sets DOTNET_HOST_PATH), else <c>dotnet</c> from PATH.</summary>
    public static string DotNet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p && File.Exists(p) ? p : "dotnet";

    private static string Dll(string project, string name)
    {
        var path = Path.Combine(Repository, project, "bin", Metadata("DeisaConfiguration"), "net10.0", name + ".dll");
        if (!File.Exists(path)) throw new FileNotFoundException($"{name} was not built at {path} (build the test project, which builds it)", path);
        return path;
    }
}
