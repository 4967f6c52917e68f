using System.Net.Sockets;
using Deisa.Protocol;
using Deisa.Protocol.BlockFrames;
using Deisa.Server;

namespace Deisa.Core.Tests;

/// <summary>
/// The block channel under strangers and hostile peers, while a real run goes on: its socket is
/// private (0600), a wrong token is refused, a refused send is answered and the connection kept,
/// a frame whose lengths do not add up or that is no frame at all closes that connection only.
/// The frames are written with the protocol's own types (Protocol/BlockFrames), so that the test
/// holds no copy of their layout.
/// </summary>
public sealed class BlockChannelTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly RendezvousDirectory _dir = new("blocks");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Strangers_and_hostile_frames_are_refused_and_the_run_goes_on()
    {
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit });
        var sums = new List<double>();
        var seen = new Dictionary<string, object?>();
        host.Register(inputs =>
        {
            if (seen.Count == 0) Provoke(host.Info!, seen);
            sums.Add(inputs["a"].Newest.Sum<double>());
        }, new WindowSpec("a"));
        var rank = Task.Factory.StartNew(() =>
        {
            using var bridge = Bridge.Open(new BridgeOptions(0, 1) { RendezvousDirectory = _dir, Timeout = Limit });
            bridge.DeclareArray("a", [8], [8], [0], DType.Float64);
            for (long t = 0; t < 4; t++) bridge.Send<double>("a", Enumerable.Repeat((double)t, 8).ToArray(), t);
            bridge.Close();
        }, TaskCreationOptions.LongRunning);
        await host.RunAsync().WaitAsync(Limit);
        await rank.WaitAsync(Limit);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, seen["mode"]);
        Assert.Equal((BlockFrameKind.Error, "missing or wrong session token"), seen["wrong token"]);
        Assert.Null(seen["after wrong token"]);
        Assert.Equal((BlockFrameKind.Ok, ""), seen["right token"]);
        Assert.Null(seen["unknown request"]);
        var refused = Assert.IsType<List<(BlockFrameKind, string)>>(seen["refused sends"]);
        Assert.All(refused, r => Assert.Equal(BlockFrameKind.Error, r.Item1));
        Assert.Contains("UTF-8", refused[0].Item2);
        Assert.Contains("'nope'", refused[1].Item2);
        Assert.Contains("99", refused[2].Item2);
        Assert.Equal((BlockFrameKind.Ok, ""), seen["before the lying send"]);
        Assert.Null(seen["lying send"]);
        Assert.Equal([null, null, null], (List<object?>)seen["garbage"]!);
        Assert.Equal([(null, true), (null, true)], (List<(object?, bool)>)seen["silent"]!);
        Assert.Equal([0.0, 8.0, 16.0, 24.0], sums);
    }

    [Fact]
    public async Task Connections_that_never_authenticate_hold_no_thread_and_are_closed()
    {
        await using var host = new AnalyticsHost(new AnalyticsOptions { RendezvousDirectory = _dir, Timeout = Limit });
        host.Register(_ => { }, new WindowSpec("a"));
        await host.StartAsync();
        var path = new Rendezvous(_dir).BlockChannelPath(host.Info!.Session);
        int before = System.Diagnostics.Process.GetCurrentProcess().Threads.Count;
        var silent = new List<Socket>();
        try
        {
            for (int i = 0; i < 300; i++) silent.Add(Connect(path));
            await Task.Delay(1000); // long enough for a thread per connection to have started
            int during = System.Diagnostics.Process.GetCurrentProcess().Threads.Count;
            Assert.True(during - before < 50, $"300 silent connections: {before} -> {during} threads");
            // Every one is closed at the hello's deadline.
            var buffer = new byte[16];
            foreach (var s in silent)
                Assert.Equal(0, s.Receive(buffer)); // ReceiveTimeout 10 s: throws if still open
        }
        finally
        {
            foreach (var s in silent) s.Dispose();
        }
    }

    private void Provoke(RendezvousInfo info, Dictionary<string, object?> seen)
    {
        var path = new Rendezvous(_dir).BlockChannelPath(info.Session);
        seen["mode"] = File.GetUnixFileMode(path);
        using (var s = Connect(path))
        {
            Send(s, Hello("not-the-token"));
            seen["wrong token"] = Reply(s);
            seen["after wrong token"] = Reply(s);
        }
        using (var s = Connect(path))
        {
            Send(s, Hello(info.Token));
            seen["right token"] = Reply(s);
            Send(s, Frame((BlockFrameKind)77, (ref FrameWriter w) => w.Int32(1)));
            seen["unknown request"] = Reply(s);
        }
        // Refused sends, each answered with its error, the connection kept: a name that is not
        // UTF-8, an array no rank declared; and the send of a rank outside the world.
        var refused = new List<(BlockFrameKind, string)>();
        using (var s = Connect(path))
        {
            Send(s, Hello(info.Token));
            Reply(s);
            foreach (var name in new[] { new byte[] { 0xff, 0xfe }, "nope"u8.ToArray() })
            {
                Send(s, SmallSend(name));
                refused.Add(Reply(s) ?? default);
            }
        }
        using (var s = Connect(path))
        {
            Send(s, Hello(info.Token, rank: 99));
            Reply(s);
            Send(s, SmallSend("a"u8.ToArray()));
            refused.Add(Reply(s) ?? default);
        }
        seen["refused sends"] = refused;
        // A send whose frame ends within its fields closes the connection.
        using (var s = Connect(path))
        {
            Send(s, Hello(info.Token));
            seen["before the lying send"] = Reply(s);
            var frame = SmallSend("a"u8.ToArray());
            frame = frame[..^3];
            BitConverter.GetBytes(frame.Length - 4).CopyTo(frame, 0); // a whole frame, short of its data
            Send(s, frame);
            seen["lying send"] = Reply(s);
        }
        // A connection that says nothing, or half a hello, is closed at the hello's deadline
        // (its thread freed), not kept forever.
        var silent = new List<(object?, bool)>();
        foreach (var payload in new[] { Array.Empty<byte>(), Hello(info.Token)[..6] })
            using (var s = Connect(path))
            {
                Send(s, payload);
                var started = DateTime.UtcNow;
                var reply = Reply(s);
                silent.Add((reply, DateTime.UtcNow - started < BlockChannelServer.HelloDeadline + TimeSpan.FromSeconds(4)));
            }
        seen["silent"] = silent;
        var garbage = new List<object?>();
        foreach (var payload in new[] { Random.Shared.GetItems<byte>(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(), 4096),
                     [0xff, 0xff, 0xff, 0x7f, 1, 2, 3], Hello(info.Token)[..9] })
            using (var s = Connect(path))
            {
                Send(s, payload);
                s.Shutdown(SocketShutdown.Send);
                garbage.Add(Reply(s));
            }
        seen["garbage"] = garbage;
    }

    private delegate void Body(ref FrameWriter w);

    private static byte[] Frame(BlockFrameKind kind, Body body)
    {
        var w = new FrameWriter(new byte[256], kind);
        body(ref w);
        int n = w.Finish();
        return w.Buffer[..n];
    }

    private static byte[] Hello(string token, int rank = 0) => Frame(BlockFrameKind.Hello, (ref FrameWriter w) => new HelloFrame(rank, token).Write(ref w));

    private static byte[] SmallSend(byte[] name) => Frame(BlockFrameKind.Send, (ref FrameWriter w) =>
        BlockRequestFrame.Write(ref w, name, 0, DType.Float64, [8], MemoryOrder.C, 64, 10_000, 0, new byte[64], withData: true));

    private static Socket Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 10_000 };
        s.Connect(new UnixDomainSocketEndPoint(path));
        return s;
    }

    private static void Send(Socket s, byte[] bytes) => BlockFrame.Send(s, bytes, bytes.Length);

    /// <summary>The next frame's kind and text (an error's message; "" for an empty Ok), or null once the analytics closed the connection.</summary>
    private static (BlockFrameKind Kind, string Text)? Reply(Socket s)
    {
        var buffer = new byte[1024];
        try
        {
            var (kind, body) = BlockFrame.Read(s, ref buffer);
            if (kind == 0) return null;
            return (kind, kind == BlockFrameKind.Error ? ErrorFrame.Read(body.Span).Message : body.Length == 0 ? "" : $"{body.Length} bytes");
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException) { return null; }
    }
}
