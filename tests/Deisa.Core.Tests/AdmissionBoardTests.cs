using Deisa.Engine.Head;
using Deisa.Hosting;
using Deisa.SharedMemory;

namespace Deisa.Core.Tests;

/// <summary>
/// The admission board: back-pressure in shared memory, where a rank of the analytics' node
/// tells without a call that its send is admitted, and the head's accounting of its tickets.
/// </summary>
public sealed class AdmissionBoardTests : IDisposable
{
    private readonly string _name = Shm.NewPrefix() + "-admission";

    public void Dispose()
    {
        try { File.Delete(Path.Combine(Segment.Directory, _name)); } catch (IOException) { }
    }

    [Fact]
    public void A_timestep_up_to_the_newest_admitted_needs_no_ticket_a_newer_one_takes_one()
    {
        using var board = AdmissionBoard.Create(_name, maxSimulationAhead: 2);
        Assert.True(board.TryAdmit(5, out bool ticket) && ticket);
        Assert.Equal((5L, 1L), (board.NewestAdmitted, board.Tickets));
        Assert.True(board.TryAdmit(3, out ticket) && !ticket); // older than an admitted one
        Assert.True(board.TryAdmit(5, out ticket) && !ticket);
        Assert.True(board.TryAdmit(6, out ticket) && ticket);
        Assert.False(board.TryAdmit(7, out _)); // no ticket left: the rank asks the head
        Assert.Equal((6L, 0L), (board.NewestAdmitted, board.Tickets));
        board.RaiseLastProcessed(5);
        Assert.False(board.TryAdmit(5, out _)); // processed: the head names the error
        board.ReturnTicket();
        Assert.True(board.TryAdmit(7, out ticket) && ticket);
    }

    [Fact]
    public void Ranks_racing_to_open_new_timesteps_take_no_more_tickets_than_there_are()
    {
        using var board = AdmissionBoard.Create(_name, maxSimulationAhead: 3);
        var admitted = new bool[16];
        var ticketed = new bool[16];
        using var go = new Barrier(admitted.Length);
        var ranks = Enumerable.Range(0, admitted.Length).Select(r => new Thread(() =>
        {
            using var mine = AdmissionBoard.Open(_name)!; // each rank maps the board itself
            go.SignalAndWait();
            admitted[r] = mine.TryAdmit(100 + r, out ticketed[r]);
        })).ToList();
        ranks.ForEach(t => t.Start());
        ranks.ForEach(t => t.Join());
        // A rank whose timestep was older than one another rank had just opened needs no
        // ticket; the others share the three.
        int taken = ticketed.Count(x => x);
        Assert.InRange(taken, 1, 3);
        Assert.Equal(3 - taken, board.Tickets);
        Assert.All(Enumerable.Range(0, 16).Where(r => admitted[r]), r => Assert.True(100 + r <= board.NewestAdmitted));
        Assert.Equal(100 + Array.FindLastIndex(ticketed, x => x), board.NewestAdmitted);
    }

    [Fact]
    public void A_segment_that_is_not_a_board_is_not_opened_as_one()
    {
        using (var other = Segment.Create(_name, AdmissionBoard.Bytes)) // zeros: no board's mark
            Assert.Null(AdmissionBoard.Open(_name));
        Assert.Null(AdmissionBoard.Open(_name + "-missing"));
    }

    /// <summary>Rank 0 sent t = 0 of 'a' (a ticket of two), read up to TimestepDone(0), not finished.</summary>
    private static async Task<(Run Run, AdmissionBoard Board)> StartAsync(string name, int maxAhead)
    {
        var board = AdmissionBoard.Create(name, maxAhead);
        var run = Run.Start(maxSimulationAhead: maxAhead, tickets: new BoardTickets(board));
        await run.AndAsync("a");
        await run.RegisterStripsAsync(2, "a");
        await run.SendAllAsync(2, "a", 0);
        await run.ReadUntilAsync<TimestepDone>(finish: false);
        return (run, board);
    }

    [Fact]
    public async Task A_ticket_a_rank_took_admits_its_timestep_and_comes_back_once_it_is_processed()
    {
        var (run, board) = await StartAsync(_name, maxAhead: 2);
        await using (run)
        using (board)
        {
            Assert.Equal((0L, 1L), (board.NewestAdmitted, board.Tickets)); // the head took one for t = 0
            Assert.True(board.TryAdmit(1, out bool ticket) && ticket); // rank 0, on the board
            Assert.False(board.TryAdmit(2, out _)); // two pending: t = 2 must wait
            await run.AdmitAsync(0, "a", 1, ticketed: true).WaitAsync(Run.Timeout);
            Assert.Equal(2, (await run.StatusAsync()).PendingTimesteps);
            Assert.True(board.TryAdmit(1, out ticket) && !ticket); // rank 1: admitted, no ticket
            await run.AdmitAsync(1, "a", 1).WaitAsync(Run.Timeout);
            var waiting = run.AdmitAsync(0, "a", 2); // asked the head: it waits too
            await run.StatusAsync();
            Assert.False(waiting.IsCompleted);

            run.Head.FinishTimestep(0); // t = 0's ticket comes back and admits t = 2 at the head
            await waiting.WaitAsync(Run.Timeout);
            Assert.Equal(0L, board.Tickets);
            Assert.Equal(2L, board.NewestAdmitted);
        }
    }

    [Fact]
    public async Task A_ticket_for_a_timestep_another_rank_opened_meanwhile_goes_back()
    {
        var (run, board) = await StartAsync(_name, maxAhead: 3);
        await using (run)
        using (board)
        {
            // Both ranks saw t = 1 as new and took a ticket each, racing.
            Assert.True(board.TryTakeTicket() && board.TryTakeTicket());
            board.RaiseNewest(1);
            Assert.Equal(0L, board.Tickets);
            await run.AdmitAsync(0, "a", 1, ticketed: true).WaitAsync(Run.Timeout);
            await run.AdmitAsync(1, "a", 1, ticketed: true).WaitAsync(Run.Timeout);
            await run.StatusAsync();
            Assert.Equal(1L, board.Tickets); // t = 1 holds one: the second came back
            Assert.Equal(2, (await run.StatusAsync()).PendingTimesteps);
        }
    }

    [Fact]
    public async Task A_refused_send_gives_its_ticket_back()
    {
        var (run, board) = await StartAsync(_name, maxAhead: 2);
        await using (run)
        using (board)
        {
            Assert.True(board.TryAdmit(1, out bool ticket) && ticket);
            var refused = await Assert.ThrowsAsync<DeisaException>(() => run.AdmitAsync(0, "undeclared", 1, ticketed: true));
            Assert.Contains("undeclared", refused.Message);
            await run.StatusAsync();
            Assert.Equal(1L, board.Tickets);
        }
    }
}
