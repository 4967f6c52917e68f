using Deisa.Platform;

namespace Deisa.Server;

/// <summary>
/// The scheduling policy of the thread that serves one rank's block channel. While the rank
/// holds a slot (acquired, or granted ahead) the thread waits for the commit, which the rank
/// sends without waiting for a reply and then goes on computing. Woken by that commit, an ordinary thread lands on the rank's own
/// CPU and preempts it: the rank pays for the analytics' handling of its commit (measured in
/// docs/design.md §6). As SCHED_BATCH, which never preempts on wake-up, the thread instead runs
/// when a CPU is free: at the rank's next call, or when an idle CPU takes it over at a
/// scheduler tick. For requests the rank waits on, the thread is ordinary again.
/// Where the policy cannot be set (a sandbox refusing the call), nothing changes.
/// </summary>
internal struct RankWriting
{
    private bool _yielding;

    /// <summary>The rank is writing a granted slot: its commit must not preempt it.</summary>
    public void Begin() => Set(true);

    /// <summary>A request arrived: serve it as an ordinary thread.</summary>
    public void End() => Set(false);

    private void Set(bool yielding)
    {
        if (_yielding == yielding) return;
        int priority = 0;
        if (Libc.SchedSetScheduler(0, yielding ? Libc.SCHED_BATCH : Libc.SCHED_OTHER, ref priority) == 0 || !yielding)
            _yielding = yielding;
    }
}
