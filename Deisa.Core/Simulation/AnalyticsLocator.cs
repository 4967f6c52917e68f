using Deisa.Model;
using Deisa.Protocol;

namespace Deisa.Simulation;

/// <summary>Where a bridge finds the analytics: the record of a live analytics in the rendezvous
/// directory, or the address given with the token in <c>$DEISA_TOKEN</c>.</summary>
internal static class AnalyticsLocator
{
    /// <summary>The analytics' address and token; waits for the record until <paramref name="deadline"/>.</summary>
    public static (string Address, string Token) Find(BridgeOptions options, DateTime deadline, CancellationToken interruption)
    {
        var rendezvous = new Rendezvous(options.RendezvousDirectory);
        var token = Environment.GetEnvironmentVariable("DEISA_TOKEN");
        while (true)
        {
            var info = rendezvous.TryReadLive();
            if (info is not null && (options.Address is null || options.Address == info.Address))
                return (info.Address, info.Token);
            if (options.Address is not null && !string.IsNullOrEmpty(token)) return (options.Address, token);
            if (DateTime.UtcNow >= deadline)
                throw DeisaException.Timeout(
                    $"rank {options.Rank} waited {options.Timeout.TotalSeconds:0.#} s for the analytics: no live analytics in {rendezvous.FilePath} " +
                    "(start the analytics from the same directory, or set DEISA_RENDEZVOUS)");
            interruption.WaitHandle.WaitOne(50);
            interruption.ThrowIfCancellationRequested();
        }
    }
}
