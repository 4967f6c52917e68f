using Deisa.Model;

namespace Deisa.Simulation;

/// <summary>One block a bridge holds for a new analytics: what its send said, and a copy of its bytes.</summary>
internal sealed record HeldBlock(string Array, long Timestep, DType DType, long[] Shape, MemoryOrder Order, byte[] Data);

/// <summary>
/// The copies a bridge keeps, under <see cref="AnalyticsFailurePolicy.Wait"/>, of its blocks of
/// its last <see cref="Capacity"/> timesteps: while the analytics runs, at most that many
/// timesteps are pending, so every block the analytics had not processed when it was lost is
/// among them. A new analytics gets them (<see cref="Bridge"/>).
/// </summary>
internal sealed class HeldBlocks
{
    private readonly List<HeldBlock> _blocks = []; // in send order: timesteps never decrease

    /// <summary>Timesteps kept: the analytics' max_simulation_ahead (told at registration).</summary>
    public int Capacity { get; set; } = 1;

    /// <summary>The blocks held, oldest first.</summary>
    public IReadOnlyList<HeldBlock> Blocks => _blocks;

    /// <summary>The oldest timestep held; null when none is.</summary>
    public long? From => _blocks.Count == 0 ? null : _blocks[0].Timestep;

    /// <summary>The newest timestep held; null when none is.</summary>
    public long? To => _blocks.Count == 0 ? null : _blocks[^1].Timestep;

    /// <summary>Distinct timesteps held.</summary>
    public int Timesteps
    {
        get
        {
            int n = 0;
            for (int i = 0; i < _blocks.Count; i++)
                if (i == 0 || _blocks[i].Timestep != _blocks[i - 1].Timestep) n++;
            return n;
        }
    }

    /// <summary>Whether a block of <paramref name="t"/> can be held without letting an older timestep go.</summary>
    public bool HasRoomFor(long t) => To == t || Timesteps < Capacity;

    /// <summary>Keeps a copy of a block; a new timestep beyond <see cref="Capacity"/> lets the oldest go
    /// (its blocks were processed: the analytics admitted this one).</summary>
    public void Add(string array, long t, DType dtype, ReadOnlySpan<long> shape, MemoryOrder order, ReadOnlySpan<byte> data)
    {
        // A block sent again for the same array and timestep (after a refusal) replaces the first.
        _blocks.RemoveAll(b => b.Timestep == t && b.Array == array);
        while (!HasRoomFor(t) && _blocks.Count > 0) DropTimestep(_blocks[0].Timestep);
        _blocks.Add(new HeldBlock(array, t, dtype, shape.ToArray(), order, data.ToArray()));
    }

    /// <summary>Lets go every block of a timestep before <paramref name="t"/>.</summary>
    public void DropBefore(long t) => _blocks.RemoveAll(b => b.Timestep < t);

    private void DropTimestep(long t) => _blocks.RemoveAll(b => b.Timestep == t);
}
