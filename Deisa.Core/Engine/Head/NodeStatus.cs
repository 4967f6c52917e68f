using Deisa.Engine.Messages;

namespace Deisa.Engine.Head;

/// <summary>One node of a cluster in <see cref="RunStatus"/>: its index (the high bits of its
/// blocks' leases), host, Dask worker, the ranks registered from its host, why it was lost
/// (null while it runs), and its pool.</summary>
public sealed record NodeStatus(int Node, string Host, string Worker, IReadOnlyList<int> Ranks, string? Lost, PoolUsage? Pool);
