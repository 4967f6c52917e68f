using Deisa.Model;

namespace Deisa.Engine.Head;

/// <summary>
/// The simulation's ranks as the head knows them: who registered (and with which arrays),
/// how far each called send, who closed and who was lost; and the rules that follow from
/// them: when a timestep closes, when every rank reached one.
/// </summary>
internal sealed class Ranks
{
    private readonly Dictionary<int, RankState> _ranks = new();

    /// <summary>The world's size, once a rank said it.</summary>
    public int? WorldSize { get; private set; }

    /// <summary>Every rank registered.</summary>
    public bool Complete => WorldSize is { } w && _ranks.Count == w;

    /// <summary>Nothing more will come from any rank.</summary>
    public bool AllFinished => _ranks.Values.All(r => r.Finished);

    public IEnumerable<RankState> All => _ranks.Values;

    public bool TryGet(int rank, out RankState state) => _ranks.TryGetValue(rank, out state!);

    public RankState this[int rank] => _ranks[rank];

    /// <summary>Adds a rank and its arrays (already checked alone); errors if it disagrees with
    /// the ranks before it or registered already.</summary>
    public void Add(int rank, int worldSize, IReadOnlyList<BlockDeclaration> arrays)
    {
        if (WorldSize is { } w && w != worldSize)
            throw DeisaException.Value($"rank {rank} says the world has {worldSize} ranks but earlier ranks said {w}");
        if (_ranks.ContainsKey(rank)) throw DeisaException.Value($"rank {rank} registered twice (one bridge per rank)");
        WorldSize = worldSize;
        _ranks[rank] = new RankState(rank, arrays.ToArray());
    }

    /// <summary>"ranks 2, 3 never connected (world size 4)".</summary>
    public string Missing()
    {
        if (WorldSize is not { } w) return "no simulation rank connected";
        var missing = Enumerable.Range(0, w).Where(r => !_ranks.ContainsKey(r)).ToList();
        return $"{(missing.Count == 1 ? "rank" : "ranks")} {string.Join(", ", missing)} never connected (world size {w})";
    }

    /// <summary>
    /// Timestep <paramref name="t"/> is closed: every rank has called send for a later timestep
    /// (it counts from the call, even while that send waits for back-pressure) or is finished.
    /// </summary>
    public bool IsClosed(long t) => Complete && _ranks.Values.All(r => r.Finished || (r.LastAnnounced is { } last && last > t));

    /// <summary>
    /// Every rank still sending has called send for <paramref name="t"/> or later: since sends
    /// never go back in time, no earlier timestep can appear any more, so callbacks at
    /// <paramref name="t"/> may run without breaking timestep order.
    /// </summary>
    public bool AllReached(long t) => _ranks.Values.All(r => r.Finished || (r.LastAnnounced is { } last && last >= t));

    /// <summary>Ranks sorted, of those that match.</summary>
    public IReadOnlyList<int> Where(Func<RankState, bool> which) => _ranks.Values.Where(which).Select(r => r.Rank).Order().ToList();
}
