using System.Text.RegularExpressions;

namespace Deisa.Core.Tests;

/// <summary>
/// The core's layers (docs/design.md, "Layers"): each folder of Deisa.Core is one namespace,
/// and a namespace may name only the namespaces below it. The check reads the sources, so it
/// sees every reference a file makes: its usings and the names it qualifies in code.
/// </summary>
public class LayerTests
{
    /// <summary>What each layer may reference besides itself. Engine.Head and Engine.Node do not
    /// see each other: they talk through Engine.Messages, which can cross a process boundary.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Model"] = [],
        ["Platform"] = ["Model"],
        ["SharedMemory"] = ["Model", "Platform"],
        ["Protocol"] = ["Model", "Platform"],
        ["Engine.Actors"] = ["Model", "Platform"],
        ["Engine.Messages"] = ["Model"],
        ["Engine.Head"] = ["Model", "Platform", "SharedMemory", "Engine.Actors", "Engine.Messages"],
        ["Engine.Node"] = ["Model", "Platform", "SharedMemory", "Engine.Actors", "Engine.Messages"],
        ["Simulation"] = ["Model", "Platform", "SharedMemory", "Protocol"],
        ["Server"] = ["Model", "Platform", "SharedMemory", "Protocol", "Engine.Actors", "Engine.Messages", "Engine.Head", "Engine.Node"],
        ["Cluster"] = ["Model", "Platform", "SharedMemory", "Protocol", "Engine.Actors", "Engine.Messages", "Engine.Node"],
        ["Dashboard"] = ["Model", "Platform", "Protocol", "Engine.Messages", "Engine.Head", "Server"],
        ["Flight"] = ["Model", "Platform", "Protocol", "Engine.Messages", "Engine.Head", "Engine.Node", "Server"],
        ["Hosting"] = ["Model", "Platform", "SharedMemory", "Protocol", "Engine.Actors", "Engine.Messages", "Engine.Head", "Engine.Node", "Server", "Cluster", "Dashboard", "Flight"],
        ["Analytics"] = ["Model", "Platform", "Protocol", "Engine.Messages", "Engine.Head", "Hosting", "Dashboard", "Flight"],
        ["Scheduling"] = ["Model"],
    };

    private static readonly Regex Using = new(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?Deisa\.([\w.]+)\s*;", RegexOptions.Multiline);
    private static readonly Regex Qualified = new(@"(?<![\w.])(?:Deisa\.)?((?:Model|Platform|SharedMemory|Protocol|Engine\.\w+|Simulation|Server|Cluster|Dashboard|Flight|Hosting|Analytics|Scheduling)(?:\.\w+)*)\.[A-Z]\w*");
    private static readonly Regex Namespace = new(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline);

    private static string CoreDirectory => Repository.PathOf("Deisa.Core");

    /// <summary>Every source file of Deisa.Core in a folder: its path, its folder as a namespace ("Engine.Head") and its text.</summary>
    private static IEnumerable<(string File, string Folder, string Text)> Sources()
    {
        var core = CoreDirectory;
        foreach (var f in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(core, f);
            if (rel.StartsWith("bin" + Path.DirectorySeparatorChar) || rel.StartsWith("obj" + Path.DirectorySeparatorChar)) continue;
            var folder = Path.GetDirectoryName(rel)!;
            if (folder.Length == 0) continue; // AssemblyInfo.cs
            yield return (rel, folder.Replace(Path.DirectorySeparatorChar, '.'), File.ReadAllText(f));
        }
    }

    /// <summary>The layer a referenced namespace (after "Deisa.") belongs to.</summary>
    private static string LayerOf(string ns)
    {
        var parts = ns.Split('.');
        return parts[0] == "Engine" && parts.Length > 1 ? $"Engine.{parts[1]}" : parts[0];
    }

    [Fact]
    public void EveryFolderIsALayerAndEveryFileIsInItsFoldersNamespace()
    {
        var wrong = new List<string>();
        foreach (var (file, folder, text) in Sources())
        {
            if (!Allowed.ContainsKey(LayerOf(folder))) wrong.Add($"{file}: folder {folder} is in no layer of the table");
            var ns = Namespace.Match(text);
            if (!ns.Success || ns.Groups[1].Value != $"Deisa.{folder}") wrong.Add($"{file}: namespace {ns.Groups[1].Value}, expected Deisa.{folder}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void NoLayerReferencesALayerAboveIt()
    {
        var wrong = new List<string>();
        foreach (var (file, folder, text) in Sources())
        {
            var layer = LayerOf(folder);
            if (!Allowed.TryGetValue(layer, out var allowed)) continue;
            var code = Regex.Replace(text, @"//.*", ""); // comments and XML docs may name anything
            var named = Using.Matches(code).Select(m => m.Groups[1].Value)
                .Concat(Qualified.Matches(code).Select(m => m.Groups[1].Value));
            foreach (var ns in named.Distinct())
            {
                var target = LayerOf(ns);
                if (target != layer && !allowed.Contains(target)) wrong.Add($"{file} ({layer}) references {ns} ({target})");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void NoNamespaceIsNamedLikeATypeInsideIt()
    {
        var clashes = typeof(HeadMessage).Assembly.GetTypes()
            .Where(t => t.Namespace is { } ns && !t.IsNested && ns.Split('.')[^1] == t.Name)
            .Select(t => t.FullName).ToList();
        Assert.True(clashes.Count == 0, string.Join(", ", clashes));
    }

    /// <summary>
    /// What the head and a node tell each other holds plain data only (numbers, text, enums,
    /// arrays and records of them): no object of a process (a segment's mapping, a task, a
    /// delegate), so that the next step can put them on different machines.
    /// </summary>
    [Fact]
    public void HeadAndNodeMessagesHoldPlainDataOnly()
    {
        var messages = typeof(HeadMessage).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && (t.IsSubclassOf(typeof(HeadMessage)) || t.IsSubclassOf(typeof(NodeMessage)))).ToList();
        Assert.True(messages.Count >= 4, string.Join(", ", messages));
        var wrong = new List<string>();
        foreach (var m in messages) Check(m, m.Name, wrong, []);
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private static void Check(Type type, string where, List<string> wrong, HashSet<Type> seen)
    {
        if (!seen.Add(type)) return;
        foreach (var p in type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            if (p.Name == "EqualityContract") continue;
            var t = p.PropertyType;
            while (t.IsArray) t = t.GetElementType()!;
            if (t.IsPrimitive || t.IsEnum || t == typeof(string)) continue;
            if (t.Namespace == typeof(HeadMessage).Namespace && t.IsSealed && t.IsClass) { Check(t, $"{where}.{p.Name}", wrong, seen); continue; }
            wrong.Add($"{where}.{p.Name} is a {p.PropertyType.Name}");
        }
    }

    [Fact]
    public void TheCheckSeesAReferenceUpwards()
    {
        // A file of the model naming the server, as the check reads it.
        const string text = "using Deisa.Server;\nnamespace Deisa.Model;\nclass X { Engine.Head.HeadActor? h; }";
        var named = Using.Matches(text).Select(m => LayerOf(m.Groups[1].Value))
            .Concat(Qualified.Matches(text).Select(m => LayerOf(m.Groups[1].Value))).ToList();
        Assert.Equal(["Server", "Engine.Head"], named);
    }
}
