using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Deisa.Engine.Node;
using Deisa.Hosting;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Protocol.Messages;

namespace Deisa.Server;

/// <summary>
/// The analytics' end of the block channel: a plain Unix socket for the calls of every send
/// (acquire, commit, one-call send of small blocks). Without HTTP/2 framing, gRPC's call
/// objects and the thread hops they take, a call costs a fraction of a gRPC call. Control
/// calls (register, feedback, close, status) stay on gRPC.
/// </summary>
internal sealed class BlockChannelServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly string _path;
    private readonly byte[] _token;
    private readonly BlockOperations _blocks;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<Socket> _connections = [];

    /// <summary>Told of each small block's send before its handling (see <see cref="EventWaiter"/>).</summary>
    internal EventWaiter? Waiter { get; set; }

    private BlockChannelServer(Socket listener, string path, string token, BlockOperations blocks)
    {
        _listener = listener;
        _path = path;
        _token = Encoding.UTF8.GetBytes(token);
        _blocks = blocks;
        _accepting = AcceptAsync();
    }

    /// <summary>The block channel's path for a gRPC Unix socket path.</summary>
    public static string PathFor(string grpcSocketPath) => grpcSocketPath + ".blocks";

    /// <summary>Listens next to the gRPC socket; null if it cannot (bridges then use gRPC only).</summary>
    public static BlockChannelServer? TryStart(string grpcSocketPath, string token, BlockOperations blocks)
    {
        var path = PathFor(grpcSocketPath);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            if (File.Exists(path)) File.Delete(path);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(512);
            return new BlockChannelServer(listener, path, token, blocks);
        }
        catch (Exception e) when (e is SocketException or IOException or ArgumentException or UnauthorizedAccessException)
        {
            listener.Dispose();
            return null;
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
            lock (_connections) _connections.Add(socket);
            new Thread(() => Serve(socket)) { IsBackground = true, Name = "deisa block channel" }.Start();
        }
    }

    /// <summary>
    /// One bridge's connection, served by a thread of its own with blocking calls: a request
    /// wakes this thread directly, and a send that meets an idle analytics runs its actors'
    /// messages here (see <see cref="Actor"/>), so it costs one thread wake-up in all
    /// instead of one for the socket's event loop and one per hop between threads. A bridge
    /// makes one call at a time, so the thread is idle or serving exactly its rank.
    /// </summary>
    private void Serve(Socket socket)
    {
        var input = new byte[64 * 1024];
        var output = new byte[256];
        var writing = new RankWriting();
        RankConnection? connection = null;
        var names = new ArrayNames();
        try
        {
            var (kind, hello) = BlockFrame.Read(socket, ref input);
            if (kind != BlockFrame.Hello) return;
            var greeting = BlockChannelHello.Parser.ParseFrom(hello.Span);
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(greeting.Token), _token))
            {
                Reply(socket, BlockFrame.Error, new BlockChannelError { Status = (int)DeisaStatus.Value, Message = "missing or wrong session token" });
                return;
            }
            Reply(socket, BlockFrame.Ok, new Empty());
            connection = new RankConnection();
            DeisaException? failedCommit = null;
            while (true)
            {
                if (kind != BlockFrame.Hello) connection.Served(); // the last request was handled
                (kind, var body) = BlockFrame.Read(socket, ref input);
                writing.End();
                if (kind == 0) return; // the bridge closed
                if (kind == BlockFrame.Commit)
                {
                    // No reply: the bridge goes on at once. A failure answers the next request.
                    try { _blocks.CommitAsync(CommitBlockRequest.Parser.ParseFrom(body.Span)).GetAwaiter().GetResult(); }
                    catch (DeisaException e) { failedCommit ??= e; }
                    continue;
                }
                byte replyKind = BlockFrame.Ok;
                IMessage reply;
                try
                {
                    if (failedCommit is { } failed)
                    {
                        failedCommit = null;
                        throw new DeisaException(failed.Status, $"an earlier block's commit failed: {failed.Message}");
                    }
                    reply = kind switch
                    {
                        BlockFrame.Acquire => _blocks.AcquireAsync(AcquireBlockRequest.Parser.ParseFrom(body.Span), _stop.Token).GetAwaiter().GetResult(),
                        BlockFrame.SendPacked => SendPacked(body, names, connection),
                        BlockFrame.Flush => new Empty(),
                        _ => throw new InvalidDataException($"unknown block channel request {kind}"),
                    };
                }
                catch (DeisaException e)
                {
                    (replyKind, reply) = (BlockFrame.Error, new BlockChannelError { Status = (int)e.Status, Message = e.Message });
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is not (InvalidDataException or InvalidProtocolBufferException))
                {
                    (replyKind, reply) = (BlockFrame.Error, new BlockChannelError { Status = (int)DeisaStatus.Internal, Message = $"internal error: {e.GetType().Name}: {e.Message}" });
                }
                Reply(socket, replyKind, reply);
                // The rank now writes its block and commits it without waiting for a reply.
                if (kind == BlockFrame.Acquire && replyKind == BlockFrame.Ok) writing.Begin();
            }
        }
        catch (Exception) // a malformed or hostile peer, or a lost one: close this connection only
        {
        }
        finally
        {
            lock (_connections) _connections.Remove(socket);
            socket.Dispose();
        }

        void Reply(Socket s, byte kind, IMessage message)
        {
            int n = BlockFrame.Write(ref output, kind, message);
            for (int sent = 0; sent < n;) sent += s.Send(output, sent, n - sent, SocketFlags.None);
        }
    }

    /// <summary>A small block's send: its slot, its bytes copied there from the frame, its commit.</summary>
    private AcquireBlockReply SendPacked(ReadOnlyMemory<byte> body, ArrayNames names, RankConnection connection)
    {
        var f = BlockSendFrame.Read(body.Span);
        var array = names.Of(body.Span[f.Name]);
        Waiter?.Arrives(f.Rank, array, f.Timestep, connection); // before the work: the reader wakes up meanwhile
        var rent = BlockOperations.Rent(f.Rank, array, f.Timestep, f.DType, f.Shape, f.Order, f.Data.GetOffsetAndLength(body.Length).Length);
        // The bytes stay in this connection's buffer until the call returns: the block is
        // copied into shared memory at the grant, which happens before (or never, on a failure).
        return _blocks.SendAsync(rent, f.TimeoutMs, f.RetiredSeen, body[f.Data], _stop.Token).GetAwaiter().GetResult();
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

    /// <summary>One bridge's connection, as a thread waiting for its request's event sees it.</summary>
    internal sealed class RankConnection
    {
        private long _served;

        /// <summary>Requests handled so far: it moves once the connection's thread is done with one.</summary>
        public long Handled => Volatile.Read(ref _served);

        public void Served() => Volatile.Write(ref _served, _served + 1);
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
        try { File.Delete(_path); } catch (IOException) { }
    }
}
