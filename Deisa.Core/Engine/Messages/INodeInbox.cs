namespace Deisa.Engine.Messages;

/// <summary>Where the head's messages to a node go.</summary>
public interface INodeInbox
{
    /// <summary>Delivers <paramref name="message"/>; the head's messages arrive in the order told.</summary>
    void Tell(NodeMessage message);
}
