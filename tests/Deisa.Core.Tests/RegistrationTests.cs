using Deisa.Engine.Head;
using Deisa.Model;

namespace Deisa.Core.Tests;

/// <summary>
/// Registration (docs/specification.md §3): collective over the world; layout errors are reported to every rank
/// and to the analytics; a timeout names the missing ranks; the analytics' callbacks must name
/// declared arrays (docs/specification.md §4).
/// </summary>
public class RegistrationTests
{
    [Fact]
    public async Task RegistrationCompletesOnlyOnceEveryRankRegistered()
    {
        await using var run = Run.Start();
        var first = run.StartRegistration(3, r => [Run.Strip(r, 3, "a")], ranks: [0, 2]);
        var analytics = run.Head.WaitForSimulationAsync(Run.Timeout);
        await run.QuiesceAsync();
        Assert.All(first, t => Assert.False(t.IsCompleted));
        Assert.False(analytics.IsCompleted);

        var last = run.StartRegistration(3, r => [Run.Strip(r, 3, "a")], ranks: [1]);
        var layouts = await Task.WhenAll(first.Concat(last)).WaitAsync(Run.Timeout);
        var layout = (await analytics.WaitAsync(Run.Timeout))["a"];
        Assert.All(layouts, l => Assert.Same(layout, l["a"]));
        Assert.Equal([0, 1, 2], layout.Ranks);
        Assert.Equal([[1L, 1, 1]], layout.Chunks);
    }

    [Fact]
    public async Task ALayoutErrorIsReportedToEveryRankAndToTheAnalytics()
    {
        await using var run = Run.Start();
        var analytics = run.Head.WaitForSimulationAsync(Run.Timeout);
        // Both ranks claim the block at position 0 (overlap).
        var ranks = run.StartRegistration(2, r => [new BlockDeclaration(r, "a", [2], [1], [0])]);

        foreach (var task in ranks.Append(analytics))
        {
            var e = await Assert.ThrowsAsync<DeisaException>(() => task.WaitAsync(Run.Timeout));
            Assert.Equal(DeisaStatus.Value, e.Status);
            Assert.Contains("'a'", e.Message);
            Assert.Contains("ranks 0 and 1", e.Message);
            Assert.Contains("overlap", e.Message);
        }
        var failed = await run.ExpectAsync<RunFailed>();
        Assert.Contains("ranks 0 and 1", failed.Message);
        // The analytics asking after the fact gets the same error.
        var late = await Assert.ThrowsAsync<DeisaException>(() => run.Head.WaitForSimulationAsync(Run.Timeout).WaitAsync(Run.Timeout));
        Assert.Contains("overlap", late.Message);
    }

    [Fact]
    public async Task AHoleIsReportedToEveryRankNamingThePosition()
    {
        await using var run = Run.Start();
        // global (2, 2) with 3 ranks: nobody owns (1, 1).
        var ranks = run.StartRegistration(3, r => [new BlockDeclaration(r, "a", [2, 2], [1, 1], [r / 2, r % 2])]);
        foreach (var task in ranks)
        {
            var e = await Assert.ThrowsAsync<DeisaException>(() => task.WaitAsync(Run.Timeout));
            Assert.Contains("(1, 1)", e.Message);
            Assert.Contains("hole", e.Message);
        }
    }

    [Fact]
    public async Task APoolSmallerThanOneTimestepIsRefusedAtRegistration()
    {
        await using var run = Run.Start(poolBytes: 2 * 4096);
        var analytics = run.Head.WaitForSimulationAsync(Run.Timeout);
        // Three one-page blocks of a declared dtype do not fit in two pages.
        var ranks = run.StartRegistration(3, r => [new BlockDeclaration(r, "a", [3 * 1024], [1024], [r], DType.Int32)]);
        foreach (var task in ranks.Append(analytics))
        {
            var e = await Assert.ThrowsAsync<DeisaException>(() => task.WaitAsync(Run.Timeout));
            Assert.Equal(DeisaStatus.Value, e.Status);
            Assert.Contains("pool", e.Message);
            Assert.Contains("8192 bytes", e.Message);
            Assert.Contains("12288 bytes", e.Message);
        }
    }

    [Fact]
    public async Task ARegistrationTimeoutNamesTheMissingRanks()
    {
        await using var run = Run.Start();
        var ranks = run.StartRegistration(4, r => [Run.Strip(r, 4, "a")], timeout: TimeSpan.FromMilliseconds(200), ranks: [0, 2]);
        foreach (var task in ranks)
        {
            var e = await Assert.ThrowsAsync<DeisaException>(() => task.WaitAsync(Run.Timeout));
            Assert.Equal(DeisaStatus.Timeout, e.Status);
            Assert.Contains("ranks 1, 3 never connected", e.Message);
            Assert.Contains("world size 4", e.Message);
        }
        var one = run.StartRegistration(4, r => [Run.Strip(r, 4, "a")], timeout: TimeSpan.FromMilliseconds(100), ranks: [1]);
        var e1 = await Assert.ThrowsAsync<DeisaException>(() => one[0].WaitAsync(Run.Timeout));
        Assert.Contains("rank 3 never connected", e1.Message);
    }

    [Fact]
    public async Task TheAnalyticsTimesOutNamingWhatIsMissing()
    {
        await using var run = Run.Start();
        var e = await Assert.ThrowsAsync<DeisaException>(() =>
            run.Head.WaitForSimulationAsync(TimeSpan.FromMilliseconds(100)).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Timeout, e.Status);
        Assert.Contains("no simulation rank connected", e.Message);
    }

    [Fact]
    public async Task ACallbackOnAnUndeclaredArrayIsAContractErrorListingBothNames()
    {
        await using var run = Run.Start();
        await run.AndAsync("temperature", "density");
        await run.RegisterStripsAsync(1, "temperature", "pressure"); // the ranks are fine

        var e = await Assert.ThrowsAsync<DeisaException>(() => run.Head.WaitForSimulationAsync(Run.Timeout).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Contract, e.Status);
        Assert.Contains("'density'", e.Message);
        Assert.Contains("never declared", e.Message);
        Assert.Contains("declared arrays: ['pressure', 'temperature']", e.Message);
    }

    [Fact]
    public async Task ARankRegisteringTwiceOrWithAnotherWorldSizeIsRefused()
    {
        await using var run = Run.Start();
        _ = run.StartRegistration(3, r => [Run.Strip(r, 3, "a")], ranks: [0]);
        var twice = run.StartRegistration(3, r => [Run.Strip(r, 3, "a")], ranks: [0]);
        Assert.Contains("registered twice", (await Assert.ThrowsAsync<DeisaException>(() => twice[0].WaitAsync(Run.Timeout))).Message);
        var other = run.Head.RegisterAsync(1, 4, [Run.Strip(1, 4, "a")], Run.Timeout);
        var e = await Assert.ThrowsAsync<DeisaException>(() => other.WaitAsync(Run.Timeout));
        Assert.Contains("world has 4 ranks but earlier ranks said 3", e.Message);
    }

    [Theory]
    [InlineData(-1, 2)]
    [InlineData(2, 2)]
    [InlineData(0, 0)]
    public async Task ARankOutsideTheWorldIsRefused(int rank, int world)
    {
        await using var run = Run.Start();
        var e = await Assert.ThrowsAsync<DeisaException>(() => run.Head.RegisterAsync(rank, world, [], Run.Timeout).WaitAsync(Run.Timeout));
        Assert.Equal(DeisaStatus.Value, e.Status);
    }

    [Fact]
    public async Task InvalidCallbacksAreRefused()
    {
        await using var run = Run.Start();
        Assert.Equal(DeisaStatus.Value, (await Assert.ThrowsAsync<DeisaException>(() => run.CallbackAsync(FiringRule.And))).Status);
        Assert.Contains("more than once", (await Assert.ThrowsAsync<DeisaException>(() => run.AndAsync("a", "a"))).Message);
        Assert.Contains("at least 1", (await Assert.ThrowsAsync<DeisaException>(() => run.CallbackAsync(FiringRule.Or, new WindowSpec("a", 0)))).Message);
        Assert.Contains("AND or OR", (await Assert.ThrowsAsync<DeisaException>(() => run.CallbackAsync((FiringRule)7, new WindowSpec("a")))).Message);
    }

    [Fact]
    public async Task ACallbackRegisteredAfterDataArrivedIsAStateError()
    {
        await using var run = Run.Start();
        await run.AndAsync("a");
        await run.RegisterStripsAsync(1, "a");
        await run.SendAsync(0, "a", 0);
        var e = await Assert.ThrowsAsync<DeisaException>(() => run.AndAsync("a"));
        Assert.Equal(DeisaStatus.State, e.Status);
    }
}
