namespace Deisa.Protocol.BlockFrames;

/// <summary>The kind byte of a block channel frame (see <see cref="BlockFrame"/>).</summary>
public enum BlockFrameKind : byte
{
    /// <summary>The first frame of a connection: <see cref="HelloFrame"/>; answered with an empty Ok.</summary>
    Hello = 1,
    /// <summary>A slot for a block the rank then writes: <see cref="BlockRequestFrame"/> without data; answered with a <see cref="SlotFrame"/>.</summary>
    Acquire = 2,
    /// <summary>The written block joins its timestep: <see cref="CommitFrame"/>; no answer.</summary>
    Commit = 3,
    /// <summary>Every commit before it was handled: empty; answered with an empty Ok.</summary>
    Flush = 5,
    /// <summary>A small block in one call: <see cref="BlockRequestFrame"/> with its data; answered with a <see cref="SlotFrame"/>.</summary>
    Send = 6,
    /// <summary>A small block sent without waiting, its timestep admitted on the admission board:
    /// <see cref="BlockRequestFrame"/> with its data; no answer (a refusal comes as <see cref="Refused"/>).</summary>
    Post = 7,
    /// <summary>The block of a slot granted ahead (<see cref="Spare"/>) is written, or given back:
    /// <see cref="AheadCommitFrame"/>; no answer (a refusal comes as <see cref="Refused"/>).</summary>
    CommitAhead = 8,
    /// <summary>A request's answer (its body depends on the request).</summary>
    Ok = 100,
    /// <summary>A request refused: <see cref="ErrorFrame"/>.</summary>
    Error = 101,
    /// <summary>A posted block refused (<see cref="Post"/>): <see cref="ErrorFrame"/>, sent when it
    /// happens, answering nothing; the bridge raises it at its next call.</summary>
    Refused = 102,
    /// <summary>A slot granted ahead for the rank's next block of an array (asked for by an acquire
    /// or a commit ahead): <see cref="SpareFrame"/>, sent when granted, answering nothing.</summary>
    Spare = 103,
}
