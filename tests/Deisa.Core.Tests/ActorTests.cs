using Deisa.Engine.Actors;

namespace Deisa.Core.Tests;

/// <summary>
/// The actor base: messages run one at a time and in order whichever threads post them; an
/// idle actor runs a message on the posting thread (no thread wake-up); a handler that throws
/// or posts more never stops the actor; disposal waits for what was queued.
/// </summary>
public class ActorTests
{
    private sealed class Probe : Actor
    {
        private int _inside;
        public int Overlaps;
        public readonly List<(int Poster, int Seq)> Seen = new();
        public readonly List<Exception> Errors = new();

        public void Record(int poster, int seq) => Post(() =>
        {
            if (Interlocked.Increment(ref _inside) != 1) Interlocked.Increment(ref Overlaps);
            Thread.SpinWait(50);
            Seen.Add((poster, seq));
            Interlocked.Decrement(ref _inside);
        });

        public Task<int> ThreadOfHandler() => Ask(() => Environment.CurrentManagedThreadId);

        public Task<List<string>> NestedAndSelf(Probe other) => Ask(() =>
        {
            var order = new List<string> { "outer start" };
            Post(() => order.Add("self"));                 // queued behind this handler
            other.Run(() => order.Add("other"));           // another actor: runs now, nested
            order.Add("outer end");
            return order;
        });

        public void Run(Action a) => Post(a);

        public Task<bool> Throw() => Ask<bool>(() => throw new InvalidOperationException("boom"));

        public void ThrowUnobserved() => Post(() => throw new InvalidOperationException("lost"));

        public Task<int> Chain(int count)
        {
            var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            int ran = 0;
            void Step()
            {
                if (++ran < count) Post(Step);
                else done.SetResult(ran);
            }
            Post(Step);
            return done.Task;
        }

        protected override void OnHandlerError(Exception e) { lock (Errors) Errors.Add(e); }
    }

    [Fact]
    public async Task Messages_from_many_threads_run_one_at_a_time_in_each_posters_order()
    {
        var probe = new Probe();
        const int posters = 8, each = 2000;
        var start = new Barrier(posters);
        var threads = Enumerable.Range(0, posters).Select(p => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < each; i++) probe.Record(p, i);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        await probe.DisposeAsync(); // waits for the queue
        Assert.Equal(0, probe.Overlaps);
        Assert.Equal(posters * each, probe.Seen.Count);
        foreach (var g in probe.Seen.GroupBy(s => s.Poster))
            Assert.Equal(Enumerable.Range(0, each), g.Select(s => s.Seq));
    }

    [Fact]
    public async Task An_idle_actor_answers_on_the_calling_thread()
    {
        await using var probe = new Probe();
        var asked = probe.ThreadOfHandler();
        Assert.True(asked.IsCompleted, "an idle actor's answer should be ready when Ask returns");
        Assert.Equal(Environment.CurrentManagedThreadId, await asked);
    }

    [Fact]
    public async Task A_handler_runs_another_actor_at_once_and_its_own_messages_after_itself()
    {
        await using var a = new Probe();
        await using var b = new Probe();
        var order = await a.NestedAndSelf(b);
        await a.ThreadOfHandler(); // the queued "self" message ran before this one
        Assert.Equal(["outer start", "other", "outer end", "self"], order);
    }

    [Fact]
    public async Task A_handler_that_throws_fails_its_ask_and_the_actor_goes_on()
    {
        await using var probe = new Probe();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(probe.Throw);
        Assert.Equal("boom", e.Message);
        probe.ThrowUnobserved();
        Assert.Equal(Environment.CurrentManagedThreadId, await probe.ThreadOfHandler());
        Assert.Equal("lost", Assert.Single(probe.Errors).Message);
    }

    [Fact]
    public async Task A_long_chain_of_messages_runs_to_the_end()
    {
        // More messages than a posting thread runs itself: the rest go to the thread pool.
        await using var probe = new Probe();
        Assert.Equal(10_000, await probe.Chain(10_000).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Disposal_waits_for_queued_messages_and_refuses_new_ones()
    {
        var probe = new Probe();
        var entered = new ManualResetEventSlim();
        var gate = new ManualResetEventSlim();
        var blocker = Task.Run(() => probe.Run(() => { entered.Set(); gate.Wait(); })); // holds the actor
        Assert.True(entered.Wait(TimeSpan.FromSeconds(30)));
        for (int i = 0; i < 100; i++) probe.Record(0, i);
        var disposing = probe.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted);
        gate.Set();
        await disposing.WaitAsync(TimeSpan.FromSeconds(30));
        await blocker;
        Assert.Equal(100, probe.Seen.Count);
        Assert.Throws<ObjectDisposedException>(() => probe.Record(0, 100));
    }
}
