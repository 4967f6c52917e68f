using Microsoft.Extensions.Hosting;

namespace Deisa.Server;

/// <summary>
/// The server lives inside someone else's process (Python, C#): it must not take over that
/// process's signals the way a console host does (SIGTERM would stop the server and leave the
/// host process waiting instead of ending it). The run owner starts and stops it.
/// </summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
