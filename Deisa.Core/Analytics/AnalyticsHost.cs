using System.Diagnostics;
using Deisa.Dashboard;
using Deisa.Engine.Head;
using Deisa.Hosting;
using Deisa.Model;
using Deisa.Protocol;

namespace Deisa.Analytics;

/// <summary>
/// The analytics side of Deisa as plain .NET (docs/specification.md §4 and §7; the C# counterpart of Python's
/// <c>Deisa</c>): register callbacks on windows of arrays, then <see cref="RunAsync"/> until every
/// simulation rank closed. Each callback receives, per input, the last timesteps of its array as
/// <see cref="DistributedArray"/>s whose blocks are read in place from shared memory.
/// </summary>
/// <example>
/// <code>
/// await using var host = new AnalyticsHost(new AnalyticsOptions { MaxSimulationAhead = 1 });
/// host.Register(inputs =>
/// {
///     var now = inputs["temperature"].Newest;
///     Console.WriteLine($"{now.Timestep}: mean {now.Mean&lt;double&gt;()}");
///     if (now.Max&lt;double&gt;() > 50) host.Set("cooling", 0.9, now.Timestep);
/// }, new WindowSpec("temperature", 3));
/// await host.RunAsync();   // returns when every rank has closed
/// </code>
/// </example>
/// <remarks>
/// Callbacks run one at a time, in registration order for each timestep, on the host's loop; an
/// async callback is awaited before anything else happens. An array's shared memory stays
/// leased while it is in some window and is given back as soon as the head drops it from every
/// window (<see cref="DistributedArray.IsReleased"/>), and at the end of the run.
/// One host runs one run.
/// </remarks>
public sealed class AnalyticsHost : IAsyncDisposable
{
    private enum State { New, Started, Running, Ended }

    private readonly object _gate = new();
    private readonly List<RegisteredCallback> _callbacks = new();
    private readonly Dictionary<(string Array, long T), DistributedArray> _held = new();
    private AnalyticsRun? _run;
    private State _state;

    /// <summary>Creates a host; nothing is started until <see cref="StartAsync"/> or <see cref="RunAsync"/>.</summary>
    /// <param name="options">Listening address, rendezvous directory, back-pressure, pool and timeout; null = defaults.</param>
    public AnalyticsHost(AnalyticsOptions? options = null)
    {
        options ??= new AnalyticsOptions();
        AnalyticsRun.Check(options);
        Options = options;
    }

    /// <summary>The options the host was created with.</summary>
    public AnalyticsOptions Options { get; }

    /// <summary>
    /// Where the host writes one line per processed timestep (timestep, arrays, time spent in
    /// callbacks) and the errors of callbacks without <see cref="CallbackOptions.OnError"/>;
    /// null (default): timesteps are not logged and callback errors go to standard error.
    /// </summary>
    public TextWriter? Log { get; set; }

    /// <summary>Session, token and address as published in the rendezvous directory; null before <see cref="StartAsync"/>.</summary>
    public RendezvousInfo? Info => _run?.Info;

    /// <summary>The rendezvous directory in use; null before <see cref="StartAsync"/>.</summary>
    public string? RendezvousDirectory => _run?.RendezvousDirectory;

    /// <summary>Every array the simulation declared, once all ranks registered; null before.</summary>
    public IReadOnlyDictionary<string, ArrayLayout>? Layouts { get; private set; }

    /// <summary>Number of timesteps processed so far (their callbacks have run).</summary>
    public long TimestepsProcessed { get; private set; }

    // ------------------------------------------------------------------ registration

    /// <summary>Registers <paramref name="callback"/> to run with an AND firing rule (as soon as every input is complete at a timestep).</summary>
    /// <param name="callback">Runs once per timestep its inputs allow.</param>
    /// <param name="inputs">One window per input array (name and size); at least one, each array once.</param>
    /// <returns>The callback's index (registration order).</returns>
    /// <exception cref="DeisaException">No input, an array given twice, a window size below 1
    /// (<see cref="DeisaStatus.Value"/>), or the host already started (<see cref="DeisaStatus.State"/>).</exception>
    public int Register(Action<CallbackInputs> callback, params WindowSpec[] inputs) =>
        Register(callback, new CallbackOptions(), inputs);

    /// <summary>Registers <paramref name="callback"/> with a firing rule (a <see cref="FiringRule"/> converts to options), name and error handler.</summary>
    /// <param name="callback">Runs once per timestep its inputs allow.</param>
    /// <param name="options">Firing rule, name, error handler.</param>
    /// <param name="inputs">One window per input array; at least one, each array once.</param>
    /// <returns>The callback's index (registration order).</returns>
    /// <exception cref="DeisaException">As for <see cref="Register(Action{CallbackInputs}, WindowSpec[])"/>.</exception>
    public int Register(Action<CallbackInputs> callback, CallbackOptions options, params WindowSpec[] inputs)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Add(i => { callback(i); return Task.CompletedTask; }, options, inputs);
    }

    /// <summary>Registers an async <paramref name="callback"/> with an AND firing rule; the host awaits it before going on.</summary>
    /// <param name="callback">Runs once per timestep its inputs allow.</param>
    /// <param name="inputs">One window per input array; at least one, each array once.</param>
    /// <returns>The callback's index (registration order).</returns>
    /// <exception cref="DeisaException">As for <see cref="Register(Action{CallbackInputs}, WindowSpec[])"/>.</exception>
    public int Register(Func<CallbackInputs, Task> callback, params WindowSpec[] inputs) =>
        Register(callback, new CallbackOptions(), inputs);

    /// <summary>Registers an async <paramref name="callback"/> with options; the host awaits it before going on.</summary>
    /// <param name="callback">Runs once per timestep its inputs allow.</param>
    /// <param name="options">Firing rule, name, error handler.</param>
    /// <param name="inputs">One window per input array; at least one, each array once.</param>
    /// <returns>The callback's index (registration order).</returns>
    /// <exception cref="DeisaException">As for <see cref="Register(Action{CallbackInputs}, WindowSpec[])"/>.</exception>
    public int Register(Func<CallbackInputs, Task> callback, CallbackOptions options, params WindowSpec[] inputs)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Add(callback, options, inputs);
    }

    private int Add(Func<CallbackInputs, Task> run, CallbackOptions options, WindowSpec[] inputs)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(inputs);
        lock (_gate)
        {
            string name = options.Name ?? $"callback {_callbacks.Count}";
            if (_state != State.New) throw DeisaException.State($"callback '{name}' registered after the host started; register every callback before StartAsync/RunAsync");
            CallbackSpec.Check(name, inputs, options.When);
            _callbacks.Add(new RegisteredCallback(name, run, inputs.ToArray(), options));
            return _callbacks.Count - 1;
        }
    }

    // ------------------------------------------------------------------ the run

    /// <summary>
    /// Starts listening and publishes the rendezvous record, so that bridges can connect, and
    /// registers the callbacks. Optional: <see cref="RunAsync"/> starts the host if needed. Use it
    /// to learn <see cref="Info"/> before launching the simulation.
    /// </summary>
    /// <exception cref="DeisaException">The host already started, or the address cannot be listened on.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_state != State.New) throw DeisaException.State("the analytics host was already started");
            _state = State.Started;
        }
        cancellationToken.ThrowIfCancellationRequested();
        AnalyticsRun run;
        try { run = await AnalyticsRun.StartAsync(Options).ConfigureAwait(false); }
        catch
        {
            lock (_gate) _state = State.Ended;
            throw;
        }
        try
        {
            foreach (var cb in _callbacks)
            {
                int id = await run.AddCallbackAsync(cb.Name, cb.Inputs, cb.Options.When).ConfigureAwait(false);
                if (id != _callbacks.IndexOf(cb))
                    throw new DeisaException(DeisaStatus.Internal, $"callback '{cb.Name}' got id {id}, expected {_callbacks.IndexOf(cb)}");
            }
        }
        catch
        {
            await run.DisposeAsync().ConfigureAwait(false);
            lock (_gate) _state = State.Ended;
            throw;
        }
        _run = run;
    }

    /// <summary>
    /// Serves the run's live dashboard (a web page; see <see cref="DashboardServer"/>) at
    /// <paramref name="address"/> ("host:port"; a free loopback port by default); open its
    /// <see cref="DashboardServer.Url"/>. After the run it shows the run as it ended, until disposed.
    /// </summary>
    /// <exception cref="DeisaException">The host was not started (<see cref="StartAsync"/>), or the address cannot be listened on.</exception>
    public Task<DashboardServer> StartDashboardAsync(string address = Protocol.Address.FreeLoopbackPort) =>
        (_run ?? throw DeisaException.State("start the analytics host (StartAsync) before its dashboard")).StartDashboardAsync(address);

    /// <summary>
    /// Serves this node's live blocks to Arrow Flight clients (<see cref="Flight.LiveBlocksEndpoint"/>)
    /// at <paramref name="address"/> ("host:port"; a free loopback port by default), guarded by the
    /// session token; dispose it to stop.
    /// </summary>
    /// <exception cref="DeisaException">The host was not started (<see cref="StartAsync"/>), or the address cannot be listened on.</exception>
    public Task<Flight.LiveBlocksEndpoint> StartFlightAsync(string address = Protocol.Address.FreeLoopbackPort) =>
        (_run ?? throw DeisaException.State("start the analytics host (StartAsync) before its Flight endpoint")).StartFlightAsync(address);

    /// <summary>
    /// Runs the callbacks until every simulation rank has closed (docs/specification.md §4 <c>execute_callbacks</c>),
    /// then ends the run: every lease is given back and the socket, rendezvous record and shared
    /// memory are removed. Starts the host first if <see cref="StartAsync"/> was not called.
    /// </summary>
    /// <param name="cancellationToken">Stops the run (the simulation's bridges are told the analytics went away).</param>
    /// <exception cref="DeisaException">The simulation never registered in time (<see cref="DeisaStatus.Timeout"/>, naming
    /// the missing ranks), a callback asks for an array the simulation never declared (<see cref="DeisaStatus.Contract"/>),
    /// the layouts are invalid, the logical flow of data was violated or a rank was lost (after the callbacks of every
    /// earlier complete timestep ran), with the status and message of the failure.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <remarks>An exception a callback throws stops the run as its <see cref="CallbackOptions.OnError"/> decides, and is then rethrown here.</remarks>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        bool start;
        lock (_gate)
        {
            if (_state == State.Running) throw DeisaException.State("RunAsync is already running");
            if (_state == State.Ended) throw DeisaException.State("this analytics host has already run; create a new one for another run");
            start = _state == State.New;
        }
        if (start) await StartAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate) _state = State.Running;
        try
        {
            Layouts = await _run!.WaitForSimulationAsync(cancellationToken).ConfigureAwait(false);
            await LoopAsync(_run, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await EndAsync().ConfigureAwait(false);
        }
    }

    private async Task LoopAsync(AnalyticsRun run, CancellationToken ct)
    {
        var clock = new Dictionary<long, long>();
        while (true)
        {
            var e = await run.NextEventAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            switch (e)
            {
                case null:
                    continue;
                case ArrayReady ready:
                    Hold(run, ready);
                    break;
                case CallbackDue due:
                    if (!clock.ContainsKey(due.Timestep)) clock[due.Timestep] = Stopwatch.GetTimestamp();
                    await RunCallbackAsync(due, ct).ConfigureAwait(false);
                    break;
                case ArrayDropped dropped:
                    if (_held.Remove((dropped.Name, dropped.Timestep), out var array)) array.Release(run.ReleaseBlock);
                    break;
                case TimestepDone done:
                    run.FinishTimestep(done.Timestep);
                    TimestepsProcessed++;
                    var spent = clock.Remove(done.Timestep, out var since) ? Stopwatch.GetElapsedTime(since) : TimeSpan.Zero;
                    Log?.WriteLine($"deisa: timestep {done.Timestep}: arrays [{string.Join(", ", HeldAt(done.Timestep))}], callbacks {spent.TotalMilliseconds:0.0} ms");
                    break;
                case RunFailed failed:
                    throw new DeisaException(failed.Status, failed.Message);
                case RunEnded:
                    return;
            }
        }
    }

    private void Hold(AnalyticsRun run, ArrayReady ready)
    {
        DistributedArray array;
        try { array = new DistributedArray(ready, run.AddressOf); }
        catch
        {
            foreach (var b in ready.Blocks) run.ReleaseBlock(b.Lease);
            throw;
        }
        if (_held.Remove((ready.Name, ready.Timestep), out var previous)) previous.Release(run.ReleaseBlock);
        _held[(ready.Name, ready.Timestep)] = array;
    }

    private IEnumerable<string> HeldAt(long t) =>
        _held.Keys.Where(k => k.T == t).Select(k => k.Array).Order(StringComparer.Ordinal);

    private async Task RunCallbackAsync(CallbackDue due, CancellationToken ct)
    {
        var cb = _callbacks[due.CallbackId];
        var windows = new ArrayWindow[cb.Inputs.Count];
        for (int i = 0; i < windows.Length; i++)
        {
            var spec = cb.Inputs[i];
            if (!due.Windows.TryGetValue(spec.Array, out var timesteps))
                throw new DeisaException(DeisaStatus.Internal, $"callback '{cb.Name}' at timestep {due.Timestep}: the head gave no window for '{spec.Array}'");
            windows[i] = new ArrayWindow(spec.Array, spec.Size, timesteps.Select(t =>
                _held.TryGetValue((spec.Array, t), out var a) ? a
                : throw new DeisaException(DeisaStatus.Internal, $"callback '{cb.Name}' at timestep {due.Timestep}: '{spec.Array}' at timestep {t} is not held")).ToArray());
        }
        var inputs = new CallbackInputs(cb.Name, due.Timestep, windows, ct);
        long began = Stopwatch.GetTimestamp();
        try
        {
            await cb.Run(inputs).ConfigureAwait(false);
            _run!.Activity.CallbackRan(cb.Name, due.Timestep, Stopwatch.GetElapsedTime(began).TotalSeconds, null);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception error)
        {
            _run!.Activity.CallbackRan(cb.Name, due.Timestep, Stopwatch.GetElapsedTime(began).TotalSeconds, $"{error.GetType().Name}: {error.Message}");
            bool goOn = cb.Options.OnError is { } handler ? handler(error, inputs) : DefaultOnError(cb, due.Timestep, error);
            if (!goOn) throw;
        }
    }

    /// <summary>As in the Python door: a timeout stops the run, anything else is logged and the run goes on.</summary>
    private bool DefaultOnError(RegisteredCallback cb, long t, Exception error)
    {
        if (error is TimeoutException) return false;
        (Log ?? Console.Error).WriteLine($"deisa: callback '{cb.Name}' failed at timestep {t}; continuing: {error}");
        return true;
    }

    private async Task EndAsync()
    {
        AnalyticsRun? run;
        lock (_gate)
        {
            if (_state == State.Ended) return;
            _state = State.Ended;
            run = _run;
        }
        if (run is null) return;
        foreach (var array in _held.Values) array.Release(run.ReleaseBlock);
        _held.Clear();
        await run.DisposeAsync().ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ feedback

    /// <summary>
    /// Sends <paramref name="value"/> to the simulation under <paramref name="key"/> for timestep
    /// <paramref name="t"/> (docs/specification.md §4, <c>set</c>); bridges read it with
    /// <c>GetFeedback(key, t)</c>. Per key, timesteps must strictly increase. A number, a
    /// string or a bool converts to a <see cref="FeedbackValue"/>: <c>host.Set("cooling", 0.9, t)</c>.
    /// </summary>
    /// <exception cref="DeisaException">Empty key, a timestep already set or older than one set
    /// (<see cref="DeisaStatus.Value"/>), a value too large, or the host not running (<see cref="DeisaStatus.State"/>).</exception>
    public Task SetAsync(string key, FeedbackValue value, long t)
    {
        ArgumentNullException.ThrowIfNull(value);
        AnalyticsRun run;
        lock (_gate)
        {
            if (_run is null || _state == State.Ended)
                throw DeisaException.State($"feedback '{key}' set while the analytics host is not running (between StartAsync and the end of RunAsync)");
            run = _run;
        }
        return run.SetFeedbackAsync(key, t, value);
    }

    /// <summary>Like <see cref="SetAsync"/>, waiting until the value is stored (for synchronous callbacks).</summary>
    /// <exception cref="DeisaException">As for <see cref="SetAsync"/>.</exception>
    public void Set(string key, FeedbackValue value, long t) => SetAsync(key, value, t).GetAwaiter().GetResult();

    /// <summary>Ends the run if it is still going (bridges are told), giving back every lease and removing the run's files and shared memory.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_state == State.Running)
            {
                // RunAsync is in progress on another thread: stopping the head ends its loop, which cleans up.
                _ = _run!.Head.StopAsync("the analytics host was disposed");
                return;
            }
        }
        await EndAsync().ConfigureAwait(false);
    }
}
