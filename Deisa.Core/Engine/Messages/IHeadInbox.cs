namespace Deisa.Engine.Messages;

/// <summary>Where a node's messages to the head go.</summary>
public interface IHeadInbox
{
    /// <summary>Delivers <paramref name="message"/>; messages of one node arrive in the order told.</summary>
    void Tell(HeadMessage message);
}
