namespace Deisa.Server;

/// <summary>One bridge's connection, as a thread waiting for its request's event sees it.</summary>
internal sealed class RankConnection
{
    private long _served;

    /// <summary>Requests handled so far: it moves once the connection's thread is done with one.</summary>
    public long Handled => Volatile.Read(ref _served);

    public void Served() => Volatile.Write(ref _served, _served + 1);
}
