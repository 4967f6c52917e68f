using System.Net.Sockets;
using Deisa.Cluster;
using Deisa.Engine.Messages;
using Deisa.Engine.Node;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Server;

namespace Deisa.Hosting;

/// <summary>
/// A cluster node's node service, run inside a Dask worker: it watches the rendezvous directory
/// for a cluster run, and for each one it becomes its node's one node service (the first worker
/// of the node to bind the session's abstract socket wins; the others stand by), links to the
/// head, holds the pool of the node's blocks and serves its ranks' block channel. Tasks of the
/// analytics that run in this worker read the blocks in place (<see cref="ViewAsync"/>).
/// </summary>
public sealed class NodeService : IAsyncDisposable
{
    private readonly Rendezvous _rendezvous;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;
    private readonly object _gate = new();
    private Serving? _serving;
    private string? _lastSession;
    private string _state = "waiting for a cluster run";

    private sealed record Serving(string Session, NodeLink Link, NodeActor Node, BlockChannelServer Channel, Socket Election)
    {
        /// <summary>The node's Arrow Flight endpoint, once the analytics asked for it.</summary>
        public Task<Flight.LiveBlocksEndpoint?>? Flight;
    }

    private NodeService(Rendezvous rendezvous, string worker)
    {
        _rendezvous = rendezvous;
        Worker = worker;
        _watching = Task.Run(WatchAsync);
    }

    /// <summary>The address of the Dask worker this service runs in.</summary>
    public string Worker { get; }

    /// <summary>Starts watching <paramref name="rendezvousDirectory"/> (null: <c>$DEISA_RENDEZVOUS</c>
    /// or <c>.deisa</c>) for cluster runs, on behalf of the worker at <paramref name="worker"/>.</summary>
    public static NodeService Start(string? rendezvousDirectory, string worker)
    {
        if (string.IsNullOrEmpty(worker)) throw DeisaException.Value("worker (the Dask worker's address) must not be empty");
        return new NodeService(new Rendezvous(rendezvousDirectory), worker);
    }

    /// <summary>What this service does now, as a line of text (for logs and tests).</summary>
    public string State { get { lock (_gate) return _state; } }

    /// <summary>The session served now and this node's index in it, or null.</summary>
    public (string Session, int Node)? Current { get { lock (_gate) return _serving is { } s ? (s.Session, s.Link.Index) : null; } }

    private void SetState(string state) { lock (_gate) _state = state; }

    private async Task WatchAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            RendezvousInfo? run = null;
            try { run = _rendezvous.TryRead(); }
            catch (DeisaException e) { SetState($"not following the rendezvous directory: {e.Message}"); }
            if (run is { Cluster: true } && run.Session != _lastSession)
            {
                _lastSession = run.Session;
                try { await ServeAsync(run).ConfigureAwait(false); }
                catch (Exception e) when (e is DeisaException or SocketException or IOException or Grpc.Core.RpcException)
                {
                    SetState($"could not serve run {run.Session}: {e.Message}");
                }
            }
            try { await Task.Delay(200, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task ServeAsync(RendezvousInfo run)
    {
        // One node service per node and run: the first worker to bind the session's name.
        var election = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { election.Bind(Rendezvous.EndPointOf(Rendezvous.NodeChannelName(run.Session) + ".node")); }
        catch (SocketException)
        {
            election.Dispose();
            SetState($"standing by: another worker of this node serves run {run.Session}");
            return;
        }
        NodeLink link;
        try { link = await NodeLink.ConnectAsync(run, Environment.MachineName, Worker, TimeSpan.FromSeconds(30), _stop.Token).ConfigureAwait(false); }
        catch
        {
            election.Dispose();
            throw;
        }
        // Anonymous segments: a node service killed with its worker leaves nothing in /dev/shm.
        var node = new NodeActor(RendezvousInfo.SegmentPrefixOf(run.Session) + "-n" + link.Index, link.PoolBytes, link, anonymous: true);
        BlockChannelServer channel;
        try { channel = BlockChannelServer.Start(Rendezvous.NodeChannelName(run.Session), run.Token, new BlockOperations(link, node)); }
        catch
        {
            await node.ShutdownAsync().ConfigureAwait(false);
            await link.DisposeAsync().ConfigureAwait(false);
            election.Dispose();
            throw;
        }
        link.Start(node);
        var serving = new Serving(run.Session, link, node, channel, election);
        serving.Flight = ServeFlightAsync(run, link, node);
        lock (_gate)
        {
            _serving = serving;
            _state = $"serving run {run.Session} as node {link.Index}";
        }
        string why;
        try { why = await link.Ended.WaitAsync(_stop.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { why = "the worker stopped"; }
        await StopServingAsync(serving).ConfigureAwait(false);
        SetState($"run {run.Session} ended ({why}); waiting for a cluster run");
    }

    /// <summary>When the analytics serves Arrow Flight: this node's endpoint, on the Dask worker's
    /// host (where clients reach the worker), its location told to the head.</summary>
    private async Task<Flight.LiveBlocksEndpoint?> ServeFlightAsync(RendezvousInfo run, NodeLink link, NodeActor node)
    {
        if (await Task.WhenAny(link.FlightWanted, link.Ended).ConfigureAwait(false) != link.FlightWanted) return null;
        try
        {
            var host = Uri.TryCreate(Worker, UriKind.Absolute, out var w) && w.Host.Length > 0 ? w.Host : "127.0.0.1";
            var endpoint = await Flight.LiveBlocksEndpoint.StartAsync($"{host}:0", run.Token, null, node, link.Index).ConfigureAwait(false);
            link.ReportFlight(endpoint.Location);
            return endpoint;
        }
        catch (DeisaException e)
        {
            SetState($"serving run {run.Session} as node {link.Index}, without Arrow Flight: {e.Message}");
            return null;
        }
    }

    private async Task StopServingAsync(Serving serving)
    {
        lock (_gate) if (_serving == serving) _serving = null;
        if (serving.Flight is { IsCompleted: true } up && up.Result is { } endpoint)
            await endpoint.DisposeAsync().ConfigureAwait(false); // before the shared memory goes
        await serving.Channel.DisposeAsync().ConfigureAwait(false);
        await serving.Link.DisposeAsync().ConfigureAwait(false);
        // Not asked for, or starting: the link's end settles it.
        if (serving.Flight is { IsCompleted: false } starting && await starting.ConfigureAwait(false) is { } late)
            await late.DisposeAsync().ConfigureAwait(false);
        await serving.Node.ShutdownAsync().ConfigureAwait(false);
        serving.Election.Dispose();
    }

    /// <summary>
    /// A view of the block of <paramref name="lease"/> of run <paramref name="session"/>, held
    /// by this node: where it lies in this process and its size, and one more lease on it, given
    /// back with <see cref="Release"/>.
    /// </summary>
    public async Task<(nint Address, long NBytes)> ViewAsync(string session, long lease)
    {
        var serving = ServingOf(session, lease);
        return await serving.Node.ViewAsync(Leases.SlotOf(lease)).ConfigureAwait(false);
    }

    /// <summary>A view of <see cref="ViewAsync"/> is gone.</summary>
    public void Release(string session, long lease)
    {
        Serving? serving;
        lock (_gate) serving = _serving;
        if (serving is not null && serving.Session == session && Leases.NodeOf(lease) == serving.Link.Index)
            serving.Node.Release(Leases.SlotOf(lease));
    }

    private Serving ServingOf(string session, long lease)
    {
        Serving? serving;
        lock (_gate) serving = _serving;
        if (serving is null || serving.Session != session)
            throw DeisaException.State($"worker {Worker} does not serve run {session} ({State}); a block is read on the worker of the node that holds it");
        if (Leases.NodeOf(lease) != serving.Link.Index)
            throw DeisaException.State($"block {lease} is held by node {Leases.NodeOf(lease)}, not by this worker's node {serving.Link.Index} ({Environment.MachineName})");
        return serving;
    }

    /// <summary>Stops serving and watching; the node's segments are removed.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await _watching.ConfigureAwait(false); } catch (Exception) { }
        Serving? serving;
        lock (_gate) serving = _serving;
        if (serving is not null) await StopServingAsync(serving).ConfigureAwait(false);
    }
}
