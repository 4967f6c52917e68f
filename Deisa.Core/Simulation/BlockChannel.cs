using System.Net.Sockets;
using Google.Protobuf;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Protocol.Messages;
using Deisa.Server;

namespace Deisa.Simulation;

/// <summary>
/// A bridge's end of the block channel (see <see cref="BlockChannelServer"/>): blocking calls
/// on a plain Unix socket, made on the simulation's own thread, one at a time.
/// </summary>
internal sealed class BlockChannel : IDisposable
{
    private readonly Socket _socket;
    private byte[] _buffer = new byte[4096];

    private BlockChannel(Socket socket) => _socket = socket;

    /// <summary>Connects and presents the token; null when the analytics has no block channel
    /// (a TCP address, or one it could not open), and the bridge uses gRPC for every call.</summary>
    public static BlockChannel? TryConnect(string address, string token, int rank)
    {
        if (Address.Parse(address, allowRemote: true).UnixPath is not { } path) return null;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { socket.Connect(new UnixDomainSocketEndPoint(BlockChannelServer.PathFor(path))); }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
        var channel = new BlockChannel(socket);
        try { channel.Call(BlockFrame.Hello, new BlockChannelHello { Token = token, Rank = rank }, Empty.Parser); }
        catch
        {
            channel.Dispose();
            throw;
        }
        return channel;
    }

    /// <summary>A message that gets no reply (a commit): sent, and the bridge goes on.</summary>
    public void Post(byte kind, IMessage message)
    {
        try { Write(kind, message); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { throw Lost(e); }
    }

    private void Write(byte kind, IMessage message) => SendAll(BlockFrame.Write(ref _buffer, kind, message));

    private void SendAll(int n)
    {
        for (int sent = 0; sent < n;) sent += _socket.Send(_buffer, sent, n - sent, SocketFlags.None);
    }

    /// <summary>One request and its reply; a refusal comes back as the analytics' <see cref="DeisaException"/>.</summary>
    public T Call<T>(byte kind, IMessage request, MessageParser<T> parser) where T : IMessage<T>
    {
        try
        {
            Write(kind, request);
            return ReadReply(parser);
        }
        catch (Exception e) when (IsLost(e)) { throw Lost(e); }
    }

    /// <summary>A small block's send (<see cref="BlockSendFrame"/>): its bytes go from
    /// <paramref name="data"/> into the frame, the reply grants and commits its slot.</summary>
    public AcquireBlockReply Send(int rank, ReadOnlySpan<byte> name, long timestep, DType dtype, ReadOnlySpan<long> shape,
        MemoryOrder order, long timeoutMs, long retiredSeen, ReadOnlySpan<byte> data)
    {
        try
        {
            int n = BlockSendFrame.Write(ref _buffer, rank, name, timestep, dtype, shape, order, timeoutMs, retiredSeen, data);
            SendAll(n);
            return ReadReply(AcquireBlockReply.Parser);
        }
        catch (Exception e) when (IsLost(e)) { throw Lost(e); }
    }

    private T ReadReply<T>(MessageParser<T> parser) where T : IMessage<T>
    {
        var (replyKind, body) = BlockFrame.Read(_socket, ref _buffer);
        if (replyKind == 0) throw new EndOfStreamException("the analytics closed the block channel");
        if (replyKind == BlockFrame.Error)
        {
            var error = BlockChannelError.Parser.ParseFrom(body.Span);
            throw new DeisaException((DeisaStatus)error.Status, error.Message);
        }
        if (replyKind != BlockFrame.Ok) throw new InvalidDataException($"block channel reply of kind {replyKind}");
        return parser.ParseFrom(body.Span);
    }

    private static bool IsLost(Exception e) =>
        e is SocketException or ObjectDisposedException or EndOfStreamException or InvalidDataException or InvalidProtocolBufferException;

    private static DeisaException Lost(Exception e) =>
        new(DeisaStatus.AnalyticsLost, $"lost the connection to the analytics: {e.Message}", e);

    public void Dispose() => _socket.Dispose();
}
