using System.Net.Sockets;
using Deisa.Errors;
using Deisa.Transport;
using Deisa.Transport.Protocol;
using Google.Protobuf;

namespace Deisa.Bridge;

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
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw new DeisaException(DeisaStatus.AnalyticsLost, $"lost the connection to the analytics: {e.Message}", e);
        }
    }

    private void Write(byte kind, IMessage message)
    {
        int n = BlockFrame.Write(ref _buffer, kind, message);
        for (int sent = 0; sent < n;) sent += _socket.Send(_buffer, sent, n - sent, SocketFlags.None);
    }

    /// <summary>One request and its reply; a refusal comes back as the analytics' <see cref="DeisaException"/>.</summary>
    public T Call<T>(byte kind, IMessage request, MessageParser<T> parser) where T : IMessage<T>
    {
        try
        {
            Write(kind, request);
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
        catch (Exception e) when (e is SocketException or ObjectDisposedException or EndOfStreamException or InvalidDataException or InvalidProtocolBufferException)
        {
            throw new DeisaException(DeisaStatus.AnalyticsLost, $"lost the connection to the analytics: {e.Message}", e);
        }
    }

    public void Dispose() => _socket.Dispose();
}
