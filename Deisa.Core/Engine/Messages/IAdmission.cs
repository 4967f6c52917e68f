namespace Deisa.Engine.Messages;

/// <summary>
/// The head's admission of a rank's sends, as a node's block channel uses it: in the analytics'
/// process the head itself, on a cluster the node's link to the head.
/// </summary>
public interface IAdmission
{
    /// <summary>Checks the send and waits for back-pressure (docs/specification.md §3) until
    /// <paramref name="timeout"/>; throws the head's refusal.</summary>
    Task AdmitAsync(BlockSend send, TimeSpan timeout, CancellationToken ct = default);

    /// <summary>An admitted send that will get no slot: the rank may send it again.</summary>
    void Withdraw(int rank, string array, long t);

    /// <summary>Rank <paramref name="rank"/>'s block channel opened (it presented the token);
    /// <paramref name="answering"/> tells, from any thread, whether the rank waits for the answer
    /// to a request being handled (then it sent nothing after it).</summary>
    void BlockChannelOpened(int rank, Func<bool> answering) { }

    /// <summary>Rank <paramref name="rank"/>'s block channel ended: every frame it sent was handled.</summary>
    void BlockChannelClosed(int rank) { }
}
