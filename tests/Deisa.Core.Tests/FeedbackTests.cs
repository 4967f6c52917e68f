using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>
/// Feedback (docs/specification.md §3 get, §4 set): per key, timesteps strictly increase; the newest
/// feedback_queue_size entries are kept; every rank asking the same (key, timestep) for the
/// n-th time gets the same answer, even if the analytics sets it between the ranks' queries.
/// </summary>
public class FeedbackTests
{
    private static long? Int(FeedbackAnswer a) => a.Value is { } v && v.TryGetInt64(out var x) ? x : null;

    [Fact]
    public void TheNthQueryGivesTheSameAnswerOnEveryRankEvenIfSetBetweenTheRanksQueries()
    {
        var store = new FeedbackStore(16);
        Assert.Null(store.Get(0, "foo", 0).Value);  // rank 0 polls first: not set yet
        store.Set("foo", 0, FeedbackValue.Of(7L));
        Assert.Null(store.Get(1, "foo", 0).Value);  // rank 1's first poll: the first answer given
        Assert.Null(store.Get(2, "foo", 0).Value);

        Assert.Equal(7, Int(store.Get(1, "foo", 0))); // second polls see the value, on every rank
        Assert.Equal(7, Int(store.Get(0, "foo", 0)));
        Assert.Equal(7, Int(store.Get(2, "foo", 0)));
    }

    [Fact]
    public void TheListFormIsConsistentAcrossRanksToo()
    {
        var store = new FeedbackStore(16);
        store.Set("foo", 0, FeedbackValue.Of(1L));
        var first = store.Get(0, "foo", null).Entries!;
        store.Set("foo", 1, FeedbackValue.Of(2L));
        Assert.Equal(first.Select(e => e.Timestep), store.Get(1, "foo", null).Entries!.Select(e => e.Timestep));
        Assert.Equal([0L, 1], store.Get(1, "foo", null).Entries!.Select(e => e.Timestep));
        Assert.Null(store.Get(0, "never-set", null).Entries);
    }

    [Fact]
    public void ATimestepNeverSetIsNullAndOtherTimestepsAreIndependent()
    {
        var store = new FeedbackStore(16);
        store.Set("foo", 0, FeedbackValue.Of(0L));
        store.Set("foo", 1, FeedbackValue.Of(1L));
        Assert.Equal(0, Int(store.Get(0, "foo", 0)));
        Assert.Null(store.Get(0, "foo", 99).Value);
        Assert.Equal(1, Int(store.Get(0, "foo", 1)));
        Assert.Null(store.Get(0, "bar", 0).Value);
    }

    [Fact]
    public void SettingTheSameTimestepAgainIsAValueErrorSayingAlreadySet()
    {
        var store = new FeedbackStore(16);
        store.Set("foo", 3, FeedbackValue.Of(1L));
        var e = Assert.Throws<DeisaException>(() => store.Set("foo", 3, FeedbackValue.Of(2L)));
        Assert.Equal(DeisaStatus.Value, e.Status);
        Assert.Contains("already been set", e.Message);
        Assert.Contains("'foo'", e.Message);
        Assert.Equal(1, Int(store.Get(0, "foo", 3))); // the first value stays
    }

    [Fact]
    public void SettingAnOlderTimestepIsAValueError()
    {
        var store = new FeedbackStore(16);
        store.Set("foo", 5, FeedbackValue.Of(1L));
        var e = Assert.Throws<DeisaException>(() => store.Set("foo", 4, FeedbackValue.Of(2L)));
        Assert.Equal(DeisaStatus.Value, e.Status);
        Assert.Contains("timestep 4 is older than timestep 5", e.Message);
        store.Set("bar", 4, FeedbackValue.Of(3L)); // keys are independent
    }

    [Fact]
    public void OnlyTheNewestQueueSizeEntriesAreKept()
    {
        var store = new FeedbackStore(3);
        for (long t = 0; t < 5; t++) store.Set("foo", t, FeedbackValue.Of(t * 10));
        Assert.Equal([2L, 3, 4], store.Get(0, "foo", null).Entries!.Select(e => e.Timestep));
        Assert.Null(store.Get(0, "foo", 1).Value);
        Assert.Equal(20, Int(store.Get(0, "foo", 2)));
        var e = Assert.Throws<DeisaException>(() => store.Set("foo", 1, FeedbackValue.Of(0L)));
        Assert.Equal(DeisaStatus.Value, e.Status);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void AQueueSizeBelowOneIsRefused(int size)
    {
        var e = Assert.Throws<DeisaException>(() => new AnalyticsOptions { FeedbackQueueSize = size }.Validate());
        Assert.Contains("feedback_queue_size", e.Message);
    }

    [Fact]
    public void InvalidValuesAreRefused()
    {
        var store = new FeedbackStore(16);
        Assert.Equal(DeisaStatus.Type, Assert.Throws<DeisaException>(() => store.Set("k", 0, new FeedbackValue((FeedbackKind)99, []))).Status);
        Assert.Equal(DeisaStatus.Value, Assert.Throws<DeisaException>(() => store.Set("k", 0, new FeedbackValue(FeedbackKind.Bytes, new byte[AbiConstants.MaxFeedbackBytes + 1]))).Status);
        Assert.Equal(DeisaStatus.Value, Assert.Throws<DeisaException>(() => store.Set("k", 0, new FeedbackValue(FeedbackKind.Int64, new byte[4]))).Status);
        Assert.Equal(DeisaStatus.Value, Assert.Throws<DeisaException>(() => store.Set("", 0, FeedbackValue.Of(1L))).Status);
        store.Set("k", 0, new FeedbackValue(FeedbackKind.NdArray, Npy(1 << 20))); // 1 MiB numpy array
        var e = Assert.Throws<DeisaException>(() => store.Set("k", 1, new FeedbackValue(FeedbackKind.NdArray, Npy((1 << 20) + 1))));
        Assert.Contains("1 MiB", e.Message);
        e = Assert.Throws<DeisaException>(() => store.Set("k", 1, new FeedbackValue(FeedbackKind.NdArray, new byte[64])));
        Assert.Contains(".npy", e.Message);
    }

    /// <summary>A numpy array of <paramref name="bytes"/> uint8 in .npy format (version 1).</summary>
    private static byte[] Npy(int bytes)
    {
        var header = $"{{'descr': '|u1', 'fortran_order': False, 'shape': ({bytes},), }}".PadRight(117) + "\n";
        var npy = new byte[10 + header.Length + bytes];
        "NUMPY"u8.CopyTo(npy.AsSpan(1));
        npy[0] = 0x93; npy[6] = 1; npy[7] = 0;
        BitConverter.GetBytes((ushort)header.Length).CopyTo(npy, 8);
        System.Text.Encoding.ASCII.GetBytes(header).CopyTo(npy, 10);
        return npy;
    }

    [Fact]
    public async Task ThroughTheHeadEveryRankGetsTheSameAnswer()
    {
        // docs/specification.md §9: the callback sets "foo" = t at t = 0 and 1; every rank polling get("foo", 0)
        // gets 0 (the first answer given, for each poll), get("foo", 99) None, later get("foo", 1) 1.
        await using var run = Run.Start();
        await run.RegisterStripsAsync(2, "a");
        var head = run.Head;

        var r0First = await head.GetFeedbackAsync(0, "foo", 0).WaitAsync(Run.Timeout);
        await head.SetFeedbackAsync("foo", 0, FeedbackValue.Of(0L)).WaitAsync(Run.Timeout);
        var r1First = await head.GetFeedbackAsync(1, "foo", 0).WaitAsync(Run.Timeout);
        Assert.Equal(r0First, r1First);
        Assert.Null(r1First.Value);
        Assert.Equal(0, Int(await head.GetFeedbackAsync(0, "foo", 0).WaitAsync(Run.Timeout)));
        Assert.Equal(0, Int(await head.GetFeedbackAsync(1, "foo", 0).WaitAsync(Run.Timeout)));
        Assert.Null((await head.GetFeedbackAsync(1, "foo", 99).WaitAsync(Run.Timeout)).Value);

        await head.SetFeedbackAsync("foo", 1, FeedbackValue.Of(1L)).WaitAsync(Run.Timeout);
        Assert.Equal(1, Int(await head.GetFeedbackAsync(0, "foo", 1).WaitAsync(Run.Timeout)));
        Assert.Equal(1, Int(await head.GetFeedbackAsync(1, "foo", 1).WaitAsync(Run.Timeout)));

        var again = await Assert.ThrowsAsync<DeisaException>(() => head.SetFeedbackAsync("foo", 1, FeedbackValue.Of(2L)).WaitAsync(Run.Timeout));
        Assert.Contains("already been set", again.Message);
        var empty = await Assert.ThrowsAsync<DeisaException>(() => head.GetFeedbackAsync(0, "", 0).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Value, empty.Status);
    }

    [Fact]
    public async Task TheHeadKeepsFeedbackQueueSizeEntries()
    {
        await using var run = Run.Start(feedbackQueueSize: 2);
        for (long t = 0; t < 4; t++) await run.Head.SetFeedbackAsync("k", t, FeedbackValue.Of(t)).WaitAsync(Run.Timeout);
        var all = await run.Head.GetFeedbackAsync(0, "k", null).WaitAsync(Run.Timeout);
        Assert.Equal([2L, 3], all.Entries!.Select(e => e.Timestep));
    }
}

public class FeedbackMemoryTests
{
    [Fact]
    public void AnswersStayTheSameAfterTheEntryLeftTheQueue()
    {
        var store = new FeedbackStore(1);
        store.Set("k", 0, FeedbackValue.Of(5L));
        Assert.True(store.Get(0, "k", 0).Value!.TryGetInt64(out var first) && first == 5);
        store.Set("k", 1, FeedbackValue.Of(6L));
        Assert.True(store.Get(1, "k", 0).Value!.TryGetInt64(out var second) && second == 5);
    }

    [Fact]
    public void PollingAKeyThatIsNeverSetUsesBoundedMemory()
    {
        var store = new FeedbackStore(8);
        for (int t = 0; t < 10_000; t++)
            for (int r = 0; r < 4; r++)
                Assert.Null(store.Get(r, "dt", t).Value);
        var field = typeof(FeedbackStore).GetField("_byTimestep", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var perKey = (System.Collections.IDictionary)field.GetValue(store)!;
        Assert.True(((System.Collections.ICollection)perKey["dt"]!).Count <= 8);
    }
}
