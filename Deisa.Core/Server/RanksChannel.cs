namespace Deisa.Server;

/// <summary>Where the ranks' blocks go, as a rank learns it when it registers: the analytics'
/// block channel (a socket path), or on a cluster the name every node's node service listens on.</summary>
internal sealed record RanksChannel(string Path);
