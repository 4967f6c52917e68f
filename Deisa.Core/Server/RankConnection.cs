namespace Deisa.Server;

/// <summary>One bridge's connection, as a thread waiting for its request's event sees it.</summary>
internal sealed class RankConnection
{
    private long _served;
    private volatile bool _answering;

    /// <summary>The rank waits for the answer to a request being handled now (so it sent nothing after it).</summary>
    public bool Answering => _answering;

    /// <summary>A request the rank waits on is being handled.</summary>
    public void Answer() => _answering = true;

    /// <summary>Requests handled so far: it moves once the connection's thread is done with one.</summary>
    public long Handled => Volatile.Read(ref _served);

    public void Served()
    {
        _answering = false;
        Volatile.Write(ref _served, _served + 1);
    }
}
