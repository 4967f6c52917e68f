using Google.Protobuf;
using Deisa.Engine.Head;
using Deisa.Model;
using Deisa.Platform;
using Deisa.Protocol;
using Deisa.Protocol.Messages;

namespace Deisa.Hosting;

/// <summary>
/// A run's feedback journal, <c>feedback-&lt;session&gt;.journal</c> in the rendezvous directory
/// (mode 0600; records are deisa.proto's <see cref="FeedbackRecord"/>, length-delimited): every
/// value the analytics sets, appended as it is set. A run that ends with the simulation still
/// running (a crash, a stop) leaves it; the next analytics in the directory reads the newest
/// one a dead run left, and if the ranks that register continue that simulation, they get its
/// values. A run whose simulation ended removes its own.
/// </summary>
internal sealed class FeedbackJournal : IFeedbackJournal, IDisposable
{
    private readonly string _path;
    private readonly List<string> _predecessors;
    private FileStream? _file; // opened at the first value
    private readonly object _lock = new();

    private FeedbackJournal(string path, IReadOnlyList<KeyedFeedback> inherited, List<string> predecessors)
    {
        _path = path;
        Inherited = inherited;
        _predecessors = predecessors;
    }

    /// <summary>The journal of <paramref name="session"/>, with what the newest journal a dead run
    /// left holds (the directory is claimed: no other analytics writes there).</summary>
    public static FeedbackJournal Open(Rendezvous rendezvous, string session)
    {
        var path = rendezvous.JournalPath(session);
        var predecessors = new List<string>();
        IReadOnlyList<KeyedFeedback> inherited = [];
        if (Directory.Exists(rendezvous.Directory))
        {
            uint me = Libc.GetEUid();
            predecessors = Directory.EnumerateFiles(rendezvous.Directory, Rendezvous.JournalPattern)
                .Where(f => f != path && Libc.OwnerAndMode(f) is { } o && o.Uid == me) // never another user's
                .OrderByDescending(File.GetLastWriteTimeUtc)
                .ToList();
            if (predecessors.Count > 0) inherited = Read(predecessors[0]);
        }
        return new FeedbackJournal(path, inherited, predecessors);
    }

    /// <summary>The records of a journal; a record cut short (the writer was killed) ends it.</summary>
    public static IReadOnlyList<KeyedFeedback> Read(string path)
    {
        var entries = new List<KeyedFeedback>();
        try
        {
            using var f = File.OpenRead(path);
            while (f.Position < f.Length)
            {
                var r = FeedbackRecord.Parser.ParseDelimitedFrom(f);
                entries.Add(new KeyedFeedback(r.Key, r.Timestep, new FeedbackValue((FeedbackKind)r.Value.Kind, r.Value.Data.ToByteArray())));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidProtocolBufferException) { }
        return entries;
    }

    /// <inheritdoc/>
    public IReadOnlyList<KeyedFeedback> Inherited { get; }

    /// <inheritdoc/>
    public void Append(KeyedFeedback entry)
    {
        var record = new FeedbackRecord
        {
            Key = entry.Key, Timestep = entry.Timestep,
            Value = new EncodedFeedback { Kind = (int)entry.Value.Kind, Data = ByteString.CopyFrom(entry.Value.Data) },
        };
        lock (_lock)
        {
            try
            {
                _file ??= new FileStream(_path, new FileStreamOptions
                {
                    Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
                record.WriteDelimitedTo(_file);
                _file.Flush(); // in the file before the value is answered: a crash right after keeps it
            }
            catch (IOException) { } // a full disk costs the successor this value, never the run
        }
    }

    /// <inheritdoc/>
    public void Settled()
    {
        foreach (var p in _predecessors) Rendezvous.TryDelete(p);
        _predecessors.Clear();
    }

    /// <summary>Closes the journal; removes it when the simulation ended (no successor will need it).</summary>
    public void Close(bool simulationEnded)
    {
        lock (_lock)
        {
            _file?.Dispose();
            _file = null;
            if (simulationEnded) Rendezvous.TryDelete(_path);
        }
    }

    public void Dispose() => Close(simulationEnded: false);
}
