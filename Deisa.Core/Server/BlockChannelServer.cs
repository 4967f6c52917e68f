using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Deisa.Engine.Actors;
using Deisa.Engine.Messages;
using Deisa.Engine.Node;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Protocol.BlockFrames;

namespace Deisa.Server;

/// <summary>
/// The analytics' end of its node's block channel (frames in <see cref="BlockFrame"/>): a
/// plain Unix socket for the calls of every send (acquire, commit, one-call send of small
/// blocks). Control calls (register, feedback, close, status) go to gRPC.
/// </summary>
internal sealed class BlockChannelServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly byte[] _token;
    private readonly BlockOperations _blocks;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<Socket> _connections = [];

    /// <summary>How long a new connection has to present its hello (the session's token):
    /// one that does not is closed, and its thread freed.</summary>
    public static readonly TimeSpan HelloDeadline = TimeSpan.FromSeconds(5);

    /// <summary>Most connections served at once; more are closed as they come (a node has a few
    /// ranks per core, not thousands).</summary>
    public const int MaxConnections = 4096;

    /// <summary>Told of each small block's send before its handling.</summary>
    internal ISendObserver? Observer { get; set; }

    private BlockChannelServer(Socket listener, string path, string token, BlockOperations blocks)
    {
        _listener = listener;
        Path = path;
        _token = Encoding.UTF8.GetBytes(token);
        _blocks = blocks;
        _accepting = AcceptAsync();
    }

    /// <summary>The socket's path, which bridges learn when they register.</summary>
    public string Path { get; }

    /// <summary>Listens at <paramref name="path"/> (mode 0600), or at the abstract name "@..."
    /// (a node's, see <see cref="Rendezvous.NodeChannelName"/>: the token guards it); an error names the path.</summary>
    public static BlockChannelServer Start(string path, string token, BlockOperations blocks)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        bool file = !path.StartsWith('@');
        try
        {
            if (file && File.Exists(path)) File.Delete(path);
            listener.Bind(Rendezvous.EndPointOf(path));
            if (file) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(512);
            return new BlockChannelServer(listener, path, token, blocks);
        }
        catch (Exception e) when (e is SocketException or IOException or ArgumentException or UnauthorizedAccessException)
        {
            listener.Dispose();
            throw new DeisaException(DeisaStatus.Value, $"cannot listen for blocks on {path}: {e.Message}", e);
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (SocketException) { continue; }
            lock (_connections)
            {
                if (_connections.Count >= MaxConnections)
                {
                    socket.Dispose();
                    continue;
                }
                _connections.Add(socket);
            }
            _ = GreetAsync(socket);
        }
    }

    /// <summary>
    /// Reads a new connection's hello without a thread of its own (a peer that says nothing,
    /// or half a hello, costs no thread and is closed at <see cref="HelloDeadline"/>); a rank
    /// that presents the session's token gets its thread (<see cref="Serve"/>), any other
    /// peer an error and the end of its connection.
    /// </summary>
    private async Task GreetAsync(Socket socket)
    {
        var input = new byte[HelloBytes];
        HelloFrame hello;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            deadline.CancelAfter(HelloDeadline);
            var (kind, body) = await BlockFrame.ReadAsync(socket, input, deadline.Token).ConfigureAwait(false);
            if (kind != BlockFrameKind.Hello) throw new InvalidDataException("a connection must start with its hello");
            hello = HelloFrame.Read(body.Span);
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(hello.Token), _token))
            {
                var w = new FrameWriter(input, BlockFrameKind.Error);
                new ErrorFrame(DeisaStatus.Value, "missing or wrong session token").Write(ref w);
                int n = w.Finish();
                await socket.SendAsync(w.Buffer.AsMemory(0, n), _stop.Token).ConfigureAwait(false);
                throw new InvalidDataException("wrong token");
            }
        }
        catch (Exception) // silent, slow, malformed or refused: this connection only
        {
            lock (_connections) _connections.Remove(socket);
            socket.Dispose();
            return;
        }
        new Thread(() => Serve(socket, hello)) { IsBackground = true, Name = "deisa block channel" }.Start();
    }

    /// <summary>Longest hello frame: a rank and a token.</summary>
    private const int HelloBytes = 1024;

    /// <summary>
    /// One bridge's connection, served by a thread of its own with blocking calls: a request
    /// wakes this thread directly, and a send that meets an idle analytics runs its actors'
    /// messages here (see <see cref="Actor"/>), so it costs one thread wake-up in all
    /// instead of one for the socket's event loop and one per hop between threads. A bridge
    /// makes one call at a time, so the thread is idle or serving exactly its rank.
    /// </summary>
    private void Serve(Socket socket, HelloFrame hello)
    {
        var input = new byte[64 * 1024];
        var output = new byte[256];
        var writing = new RankWriting();
        var names = new ArrayNames();
        var connection = new RankConnection();
        _blocks.ChannelOpened(hello.Rank, () => connection.Answering);
        try
        {
            ReplyOk(null); // the hello
            DeisaException? failedCommit = null;
            int held = 0; // slots the rank holds (acquired, or granted ahead) and has not committed yet
            while (true)
            {
                var (kind, body) = BlockFrame.Read(socket, ref input);
                writing.End();
                if (kind == 0) return; // the bridge closed
                if (kind == BlockFrameKind.Commit)
                {
                    // No reply: the bridge goes on at once. A failure answers the next request.
                    held = Math.Max(0, held - 1);
                    try { _blocks.CommitAsync(hello.Rank, CommitFrame.Read(body.Span)).GetAwaiter().GetResult(); }
                    catch (DeisaException e) { failedCommit ??= e; }
                    connection.Served();
                    if (held > 0) writing.Begin();
                    continue;
                }
                if (kind == BlockFrameKind.CommitAhead)
                {
                    // No reply, as a commit; a refusal is sent as it happens, then the next slot ahead.
                    held = Math.Max(0, held - 1);
                    var (slotId, f) = AheadCommitFrame.Read(body.Span);
                    var request = body[AheadCommitFrame.RequestAt..];
                    BlockSend? send = null;
                    var taken = Posted(() =>
                    {
                        send = new BlockSend(hello.Rank, names.Of(request.Span[f.Name]), f.Timestep, f.DType, f.Shape, f.Order, f.NBytes) { Ticketed = f.Ticketed };
                        _blocks.CommitAheadAsync(send, slotId, f.TimeoutMs, _stop.Token).GetAwaiter().GetResult();
                    });
                    if (taken is null) return;
                    if (taken.Value && f.WantsSpare && send is not null && GrantAhead(send, f.RetiredSeen)) held++;
                    connection.Served();
                    if (held > 0) writing.Begin();
                    continue;
                }
                if (kind == BlockFrameKind.Post)
                {
                    // No reply: the rank goes on at once. A refusal is sent as it happens; the
                    // bridge raises it at its next call.
                    if (Posted(() => Send(hello.Rank, body, names, connection)) is null) return;
                    connection.Served();
                    if (held > 0) writing.Begin();
                    continue;
                }
                connection.Answer(); // a request the rank waits on, until Served
                (BlockSend Like, long RetiredSeen)? aheadLike = null; // an acquire that asks for the next slot ahead
                SlotFrame? slot = null;
                ErrorFrame? error = null;
                try
                {
                    if (failedCommit is { } failed)
                    {
                        failedCommit = null;
                        throw new DeisaException(failed.Status, $"an earlier block's commit failed: {failed.Message}");
                    }
                    slot = kind switch
                    {
                        BlockFrameKind.Acquire => Acquire(hello.Rank, body, names, out aheadLike),
                        BlockFrameKind.Send => Send(hello.Rank, body, names, connection),
                        BlockFrameKind.Flush => null,
                        _ => throw new InvalidDataException($"unknown block channel request {kind}"),
                    };
                }
                catch (DeisaException e)
                {
                    error = new ErrorFrame(e.Status, e.Message);
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is not InvalidDataException)
                {
                    error = new ErrorFrame(DeisaStatus.Internal, $"internal error: {e.GetType().Name}: {e.Message}");
                }
                if (error is { } failure) Reply(BlockFrameKind.Error, failure);
                else ReplyOk(slot);
                if (kind == BlockFrameKind.Acquire && error is null)
                {
                    held++;
                    if (aheadLike is { } like && GrantAhead(like.Like, like.RetiredSeen)) held++;
                }
                connection.Served();
                // While the rank writes a slot it holds, and commits it without waiting for a reply,
                // the commit must not preempt it (see RankWriting).
                if (held > 0) writing.Begin();
            }
        }
        catch (Exception) // a malformed or hostile peer, or a lost one: close this connection only
        {
        }
        finally
        {
            lock (_connections) _connections.Remove(socket);
            socket.Dispose();
            _blocks.ChannelClosed(hello.Rank);
        }

        void ReplyOk(SlotFrame? slot)
        {
            var w = new FrameWriter(output, BlockFrameKind.Ok);
            slot?.Write(ref w);
            Write(ref w);
        }

        // Handles a frame the rank does not wait on: a refusal is sent at once (Refused), and
        // the bridge raises it at its next call. True when taken, false when refused, null when
        // the server is stopping.
        bool? Posted(Action work)
        {
            ErrorFrame? refused = null;
            try { work(); }
            catch (DeisaException e) { refused = new ErrorFrame(e.Status, e.Message); }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return null; }
            catch (Exception e) when (e is not InvalidDataException)
            {
                refused = new ErrorFrame(DeisaStatus.Internal, $"internal error: {e.GetType().Name}: {e.Message}");
            }
            if (refused is not { } r) return true;
            Reply(BlockFrameKind.Refused, r);
            return false;
        }

        // A slot for the rank's next block of the array, sent now so that it is there when the
        // rank writes that block (without a call); none when the pool has no room for it now.
        bool GrantAhead(BlockSend like, long retiredSeen)
        {
            if (_blocks.AheadAsync(like, retiredSeen).GetAwaiter().GetResult() is not { } spare) return false;
            var w = new FrameWriter(output, BlockFrameKind.Spare);
            spare.Write(ref w);
            Write(ref w);
            return true;
        }

        void Reply(BlockFrameKind kind, ErrorFrame error)
        {
            var w = new FrameWriter(output, kind);
            error.Write(ref w);
            Write(ref w);
        }

        void Write(ref FrameWriter w)
        {
            int n = w.Finish();
            output = w.Buffer;
            BlockFrame.Send(socket, output, n);
        }
    }

    /// <summary>An acquire: its slot; <paramref name="ahead"/>, the send to grant the next slot
    /// ahead like, when the rank asks for one.</summary>
    private SlotFrame Acquire(int rank, ReadOnlyMemory<byte> body, ArrayNames names, out (BlockSend Like, long RetiredSeen)? ahead)
    {
        var f = BlockRequestFrame.Read(body.Span, withData: false);
        var send = new BlockSend(rank, names.Of(body.Span[f.Name]), f.Timestep, f.DType, f.Shape, f.Order, f.NBytes);
        ahead = f.WantsSpare ? (send, f.RetiredSeen) : null;
        return _blocks.AcquireAsync(send, f.TimeoutMs, f.RetiredSeen, _stop.Token).GetAwaiter().GetResult();
    }

    /// <summary>A small block's send (answered, or posted): its slot, its bytes copied there from the frame, its commit.</summary>
    private SlotFrame Send(int rank, ReadOnlyMemory<byte> body, ArrayNames names, RankConnection connection)
    {
        var f = BlockRequestFrame.Read(body.Span, withData: true);
        var array = names.Of(body.Span[f.Name]);
        Observer?.Arrives(rank, array, f.Timestep, connection); // before the work: the reader wakes up meanwhile
        var send = new BlockSend(rank, array, f.Timestep, f.DType, f.Shape, f.Order, f.NBytes) { Ticketed = f.Ticketed };
        // The bytes stay in this connection's buffer until the call returns: the block is
        // copied into shared memory at the grant, which happens before (or never, on a failure).
        return _blocks.SendAsync(send, f.TimeoutMs, f.RetiredSeen, body[f.Data], _stop.Token).GetAwaiter().GetResult();
    }

    /// <summary>The array names a connection's sends carry, decoded once: a rank sends the same few.</summary>
    private sealed class ArrayNames
    {
        private readonly List<(byte[] Utf8, string Name)> _known = [];

        public string Of(ReadOnlySpan<byte> utf8)
        {
            foreach (var (bytes, name) in _known)
                if (utf8.SequenceEqual(bytes)) return name;
            string decoded;
            try { decoded = StrictUtf8.GetString(utf8); }
            catch (DecoderFallbackException) { throw DeisaException.Value("an array name that is not valid UTF-8"); }
            if (_known.Count < 256) _known.Add((utf8.ToArray(), decoded));
            return decoded;
        }

        private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        try { await _accepting.ConfigureAwait(false); } catch (Exception) { }
        lock (_connections)
            foreach (var s in _connections)
            {
                // Wakes the connection's thread out of its blocking receive.
                try { s.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
                s.Dispose();
            }
        if (!Path.StartsWith('@')) try { File.Delete(Path); } catch (IOException) { }
    }
}
