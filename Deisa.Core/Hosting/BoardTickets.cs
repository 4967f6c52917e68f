using Deisa.Engine.Head;
using Deisa.SharedMemory;

namespace Deisa.Hosting;

/// <summary>The head's tickets kept on the run's <see cref="AdmissionBoard"/>, where the ranks
/// of the analytics' node take them too.</summary>
internal sealed class BoardTickets(AdmissionBoard board) : IAdmissionTickets
{
    public bool TryTake() => board.TryTakeTicket();

    public void Return() => board.ReturnTicket();

    public void Admitted(long t) => board.RaiseNewest(t);

    public void Processed(long t) => board.RaiseLastProcessed(t);
}
