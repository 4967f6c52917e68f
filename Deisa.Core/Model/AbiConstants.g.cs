// GENERATED from Deisa.Native/abi/deisa_abi.json by Deisa.Native/abi/generate.py: edit that file,
// not this one. The enums (DeisaStatus, DType, ...) are written by hand and checked against the
// same file by tests/Deisa.Core.Tests/AbiTests.cs.
#nullable enable

namespace Deisa.Model;

/// <summary>The C ABI's version and limits (deisa.h), and the text of each status code.</summary>
public static class AbiConstants
{
    /// <summary>Version of the library and of its C ABI.</summary>
    public const string Version = "0.2.0";

    /// <summary>Most dimensions an array may have (numpy's limit).</summary>
    public const int MaxDimensions = 32;

    /// <summary>Most elements an array may have (2^58): its bytes always fit in an int64_t.</summary>
    public const long MaxElements = 288230376151711744;

    /// <summary>Most bytes of one deisa_bridge_send (larger blocks: deisa_bridge_acquire).</summary>
    public const int MaxSendBytes = 2147483647;

    /// <summary>Most bytes of the data of a numpy array sent as feedback (1 MiB).</summary>
    public const int MaxFeedbackArrayBytes = 1048576;

    /// <summary>Most bytes of one feedback value (an array's data and its .npy header included).</summary>
    public const int MaxFeedbackBytes = 1052672;

    /// <summary>Longest wait of one deisa_analytics_read_events call, in seconds.</summary>
    public const int MaxWaitSeconds = 3600;

    /// <summary>A block's lease carries the index of the node holding it above this bit (0: the analytics' own node).</summary>
    public const int LeaseNodeShift = 40;

    /// <summary>What a status code means (<c>deisa_status_string</c>); null for a code that is not one.</summary>
    public static string? StatusMessage(DeisaStatus status) => status switch
    {
        DeisaStatus.Ok => "success",
        DeisaStatus.Value => "bad value: shape, position, timestep order, layout",
        DeisaStatus.Type => "bad type or dtype",
        DeisaStatus.Contract => "an array or key that was never declared",
        DeisaStatus.Timeout => "a wait ran past its timeout",
        DeisaStatus.State => "not valid now (after close, or the logical flow of data was violated)",
        DeisaStatus.AnalyticsLost => "the analytics went away",
        DeisaStatus.Internal => "unexpected failure inside Deisa",
        DeisaStatus.Pending => "not an error: nothing happened within the wait; call again",
        DeisaStatus.InvalidHandle => "NULL or invalid handle or pointer argument",
        DeisaStatus.Interrupted => "the wait was interrupted (deisa_bridge_interrupt, deisa_analytics_interrupt): the handle is disconnected",
        _ => null,
    };
}
