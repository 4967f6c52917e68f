using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Deisa.Platform;
using Deisa.Model;
using Deisa.Protocol;
using Deisa.Protocol.BlockFrames;

namespace Deisa.Simulation;

/// <summary>
/// A bridge's end of its node's block channel (frames in <see cref="BlockFrame"/>): blocking
/// calls on a plain Unix socket, made on the simulation's own thread, one at a time. A socket
/// that fails is the analytics gone (<see cref="DeisaStatus.AnalyticsLost"/>); a refusal is the
/// analytics' error.
/// </summary>
internal sealed class BlockChannel : IDisposable
{
    private readonly Socket _socket;
    private byte[] _buffer = new byte[4096]; // the frame being written
    private byte[] _in = new byte[4096]; // what was received: frames from _start to _end
    private int _start, _end;
    private DeisaException? _refused; // a posted block's refusal, raised at the next call
    private readonly List<SpareFrame> _spares = []; // slots granted ahead, received and not taken yet

    private BlockChannel(Socket socket) => _socket = socket;

    /// <summary>Connects to the block channel at <paramref name="path"/> and presents the token.
    /// A cluster node's channel ("@...", see <see cref="Rendezvous.NodeChannelName"/>) is waited
    /// for until <paramref name="deadline"/>: the node's Dask worker may start after the rank.</summary>
    public static BlockChannel Connect(string path, string token, int rank, DateTime deadline, CancellationToken interruption)
    {
        Socket socket;
        while (true)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(Rendezvous.EndPointOf(path));
                break;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                bool node = path.StartsWith('@');
                if (node && DateTime.UtcNow < deadline)
                {
                    interruption.WaitHandle.WaitOne(50);
                    interruption.ThrowIfCancellationRequested();
                    continue;
                }
                if (node)
                    throw DeisaException.Timeout(
                        $"rank {rank}: no deisa node service on host {Environment.MachineName} ({e.Message}); on a cluster every node with ranks needs a Dask worker " +
                        "with the deisa plugin (dask worker --preload deisa.distributed, or Deisa(scheduler=...) registers it on running workers)");
                throw new DeisaException(DeisaStatus.AnalyticsLost,
                    $"rank {rank} cannot reach its node's block channel {path} ({e.Message}); blocks travel through shared memory, so a rank runs on the node of the analytics it sends to");
            }
        }
        var channel = new BlockChannel(socket);
        try
        {
            // Posted blocks fill the socket while the analytics is busy: a send that finds no
            // room is held as long as the rank's own timeout, then fails, never for ever.
            socket.SendTimeout = (int)Math.Clamp((long)(deadline - DateTime.UtcNow).TotalMilliseconds, 1, int.MaxValue);
            var w = new FrameWriter(channel._buffer, BlockFrameKind.Hello);
            new HelloFrame(rank, token).Write(ref w);
            channel.Call(ref w);
        }
        catch
        {
            channel.Dispose();
            throw;
        }
        return channel;
    }

    /// <summary>A slot for a block of <paramref name="nbytes"/> the rank then writes and commits.</summary>
    /// <summary>With <paramref name="wantsSpare"/>, a slot ahead for the next block of the array
    /// follows (<see cref="TakeSpares"/>), if the pool has room for it.</summary>
    public SlotFrame Acquire(ReadOnlySpan<byte> name, long timestep, DType dtype, ReadOnlySpan<long> shape,
        MemoryOrder order, long nbytes, long timeoutMs, long retiredSeen, bool wantsSpare = false)
    {
        ThrowIfRefused();
        var w = new FrameWriter(_buffer, BlockFrameKind.Acquire);
        BlockRequestFrame.Write(ref w, name, timestep, dtype, shape, order, nbytes, timeoutMs, retiredSeen, default, withData: false,
            wantsSpare: wantsSpare);
        return SlotFrame.Read(Call(ref w).Span);
    }

    /// <summary>
    /// The block written in a slot granted ahead is committed as the send of (name, timestep):
    /// sent without waiting (a refusal is raised by a later call); with <paramref name="wantsSpare"/>
    /// the next slot ahead follows.
    /// </summary>
    public void CommitAhead(long slot, ReadOnlySpan<byte> name, long timestep, DType dtype, ReadOnlySpan<long> shape,
        MemoryOrder order, long nbytes, long timeoutMs, long retiredSeen, bool ticketed, bool wantsSpare)
    {
        var w = new FrameWriter(_buffer, BlockFrameKind.CommitAhead);
        AheadCommitFrame.Write(ref w, slot, name, timestep, dtype, shape, order, nbytes, timeoutMs, retiredSeen, ticketed, wantsSpare);
        try { Post(ref w); }
        catch (Exception e) when (IsLost(e)) { throw Lost(e); }
    }

    /// <summary>The slots granted ahead that came since the last call (read without waiting).</summary>
    public IReadOnlyList<SpareFrame> TakeSpares()
    {
        ReadPushed();
        if (_spares.Count == 0) return [];
        var taken = _spares.ToArray();
        _spares.Clear();
        return taken;
    }

    /// <summary>A small block in one call: its bytes go from <paramref name="data"/> into the
    /// frame; the answer is the slot they were written to, already committed.</summary>
    public SlotFrame Send(ReadOnlySpan<byte> name, long timestep, DType dtype, ReadOnlySpan<long> shape,
        MemoryOrder order, long timeoutMs, long retiredSeen, ReadOnlySpan<byte> data)
    {
        ThrowIfRefused();
        var w = new FrameWriter(_buffer, BlockFrameKind.Send);
        BlockRequestFrame.Write(ref w, name, timestep, dtype, shape, order, data.Length, timeoutMs, retiredSeen, data, withData: true);
        return SlotFrame.Read(Call(ref w).Span);
    }

    /// <summary>
    /// A small block whose timestep is admitted (on the admission board, <paramref name="ticketed"/>
    /// if the rank took a ticket for it): sent without waiting for an answer. A refusal comes
    /// back later and is raised by the next call but a commit.
    /// </summary>
    public void Post(ReadOnlySpan<byte> name, long timestep, DType dtype, ReadOnlySpan<long> shape,
        MemoryOrder order, long timeoutMs, ReadOnlySpan<byte> data, bool ticketed)
    {
        ThrowIfRefused();
        var w = new FrameWriter(_buffer, BlockFrameKind.Post);
        BlockRequestFrame.Write(ref w, name, timestep, dtype, shape, order, data.Length, timeoutMs, 0, data, withData: true, ticketed);
        try { Post(ref w); }
        catch (Exception e) when (IsLost(e)) { throw Lost(e); }
    }

    /// <summary>Reads what the analytics sent unasked (refusals, slots ahead), without waiting:
    /// one system call takes what arrived.</summary>
    private void ReadPushed()
    {
        try
        {
            Receive(wait: false); // what did not fit is taken at the next call
            while (TakeFrame() is { } frame)
                if (!Pushed(frame.Kind, frame.Body)) throw new InvalidDataException($"block channel frame of kind {frame.Kind} where none was asked for");
        }
        catch (Exception e) when (IsLost(e)) { throw Lost(e); }
    }

    /// <summary>The next frame, waiting for it (its body is valid until the next read).</summary>
    private (BlockFrameKind Kind, ReadOnlyMemory<byte> Body) ReadFrame()
    {
        while (true)
        {
            if (TakeFrame() is { } frame) return frame;
            Receive(wait: true);
        }
    }

    /// <summary>A whole frame received and not taken yet, if there is one.</summary>
    private (BlockFrameKind Kind, ReadOnlyMemory<byte> Body)? TakeFrame()
    {
        if (_end - _start < 4) return null;
        int n = BinaryPrimitives.ReadInt32LittleEndian(_in.AsSpan(_start));
        if (n < 1 || n > BlockFrame.MaxBytes + 1) throw new InvalidDataException($"block channel frame of {n} bytes");
        if (_end - _start < 4 + n) return null;
        var frame = ((BlockFrameKind)_in[_start + 4], _in.AsMemory(_start + 5, n - 1));
        _start += 4 + n;
        return frame;
    }

    /// <summary>
    /// Receives what arrived after what was received: waiting for it in poll() (a thread asleep
    /// in receive on a Unix socket is also woken when its peer reads, see <see cref="BlockFrame.Read"/>),
    /// or not at all; false when nothing came (without waiting). The peer closing is lost.
    /// </summary>
    private unsafe bool Receive(bool wait)
    {
        if (_start == _end) _start = _end = 0;
        int need = _end - _start >= 4 ? 4 + Math.Max(0, BinaryPrimitives.ReadInt32LittleEndian(_in.AsSpan(_start))) : 4;
        if (_in.Length - _start < Math.Max(need, 512))
        {
            // Room for the frame being received: move it to the front, or into a larger buffer.
            var into = _in.Length >= Math.Max(need, 4096) ? _in : new byte[Math.Max(need, 2 * _in.Length)];
            Array.Copy(_in, _start, into, 0, _end - _start);
            (_in, _end, _start) = (into, _end - _start, 0);
        }
        if (wait) while (!_socket.Poll(-1, SelectMode.SelectRead)) { }
        nint got;
        fixed (byte* p = &_in[_end])
            do got = Libc.Recv((int)_socket.Handle, p, (nuint)(_in.Length - _end), Libc.MSG_DONTWAIT);
            while (got < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR);
        if (got > 0)
        {
            _end += (int)got;
            return true;
        }
        if (got == 0) throw new EndOfStreamException("the analytics closed the block channel");
        int errno = Marshal.GetLastPInvokeError();
        if (errno == Libc.EAGAIN) return false;
        throw new SocketException(errno);
    }

    /// <summary>Keeps a frame the analytics sent unasked; false for any other frame.</summary>
    private bool Pushed(BlockFrameKind kind, ReadOnlyMemory<byte> body)
    {
        if (kind == BlockFrameKind.Refused) _refused ??= Refusal(body);
        else if (kind == BlockFrameKind.Spare) _spares.Add(SpareFrame.Read(body.Span));
        else return false;
        return true;
    }

    /// <summary>Raises the refusal of a block posted before, if one came (reading what arrived, without waiting).</summary>
    private void ThrowIfRefused()
    {
        ReadPushed();
        if (_refused is { } refused)
        {
            _refused = null;
            throw refused;
        }
    }

    private static DeisaException Refusal(ReadOnlyMemory<byte> body)
    {
        var e = ErrorFrame.Read(body.Span).ToException();
        return new DeisaException(e.Status, $"an earlier block's send failed: {e.Message}", e);
    }

    /// <summary>The block of <paramref name="slot"/> is written (or, <paramref name="abandon"/>,
    /// given back): sent without waiting; a refusal answers the next request.</summary>
    public void Commit(long slot, bool abandon)
    {
        var w = new FrameWriter(_buffer, BlockFrameKind.Commit);
        new CommitFrame(slot, abandon).Write(ref w);
        try { Post(ref w); }
        catch (Exception e) when (IsLost(e)) { throw Lost(e); }
    }

    /// <summary>Returns once every commit and posted block sent before was handled (the error
    /// of a refused one, if any).</summary>
    public void Flush()
    {
        ThrowIfRefused();
        var w = new FrameWriter(_buffer, BlockFrameKind.Flush);
        Call(ref w);
        ThrowIfRefused();
    }

    private void Post(ref FrameWriter w)
    {
        int n = w.Finish();
        _buffer = w.Buffer;
        BlockFrame.Send(_socket, _buffer, n);
    }

    /// <summary>Sends the frame and returns the body of its answer.</summary>
    private ReadOnlyMemory<byte> Call(ref FrameWriter w)
    {
        try
        {
            Post(ref w);
            var (kind, body) = ReadFrame();
            while (Pushed(kind, body)) // sent unasked before this answer
                (kind, body) = ReadFrame();
            return kind switch
            {
                BlockFrameKind.Ok => body,
                BlockFrameKind.Error => throw ErrorFrame.Read(body.Span).ToException(),
                0 => throw new EndOfStreamException("the analytics closed the block channel"),
                _ => throw new InvalidDataException($"block channel answer of kind {kind}"),
            };
        }
        catch (Exception e) when (IsLost(e)) { throw Lost(e); }
    }

    private static bool IsLost(Exception e) =>
        e is SocketException or ObjectDisposedException or EndOfStreamException or InvalidDataException;

    private DeisaException Lost(Exception e)
    {
        if (e is not SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock })
            return new(DeisaStatus.AnalyticsLost, $"lost the connection to the analytics: {e.Message}", e);
        Shutdown(); // part of a frame may have gone: the channel cannot be used any more
        return DeisaException.Timeout($"the analytics took no block for {_socket.SendTimeout / 1000.0:0.#} s (the bridge's timeout)");
    }

    /// <summary>Ends the connection in both directions, from any thread: a call waiting for its
    /// answer returns at once (<see cref="AnalyticsLink.Interrupt"/>).</summary>
    public void Shutdown()
    {
        try { _socket.Shutdown(SocketShutdown.Both); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    public void Dispose() => _socket.Dispose();
}
