namespace Deisa.Server;

/// <summary>Where the ranks' blocks go, as a rank learns it when it registers: the analytics'
/// block channel (a socket path) and the run's admission board (a shared-memory segment), or
/// on a cluster the name every node's node service listens on (and no board).</summary>
internal sealed record RanksChannel(string Path, string? AdmissionBoard = null);
