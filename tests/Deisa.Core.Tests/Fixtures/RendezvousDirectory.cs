namespace Deisa.Core.Tests.Fixtures;

/// <summary>
/// A rendezvous directory of a test's own, under the temporary directory, removed on dispose.
/// Kept short: the analytics' Unix socket lives in it and socket paths are limited to 108 bytes.
/// </summary>
internal sealed class RendezvousDirectory(string kind) : IDisposable
{
    public string FullName { get; } = Path.Combine(Path.GetTempPath(), $"deisa-{kind}-{Guid.NewGuid():N}"[..(8 + kind.Length + 16)]);

    public static implicit operator string(RendezvousDirectory d) => d.FullName;

    public void Dispose()
    {
        try { Directory.Delete(FullName, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
