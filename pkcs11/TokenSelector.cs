using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Xks.Pkcs11;

/// <summary>Which token of a module to use: exactly one of its label, its slot id or its serial number.</summary>
public sealed record TokenSelector
{
    public TokenSelector(string? label = null, ulong? slot = null, string? serial = null)
    {
        var given = (label is null ? 0 : 1) + (slot is null ? 0 : 1) + (serial is null ? 0 : 1);
        if (given != 1)
        {
            throw new ArgumentException("a PKCS#11 token is selected by exactly one of label, slot or serial");
        }

        Label = label;
        Slot = slot;
        Serial = serial;
    }

    public string? Label { get; }

    public ulong? Slot { get; }

    public string? Serial { get; }

    public static TokenSelector ByLabel(string label) => new(label: label);

    public static TokenSelector BySlot(ulong slot) => new(slot: slot);

    public static TokenSelector BySerial(string serial) => new(serial: serial);

    /// <summary>A short stable name for health and logs: the label, <c>slot-&lt;id&gt;</c> or <c>serial-&lt;s&gt;</c>.</summary>
    public string Id => Label ?? (Slot is { } slot ? $"slot-{slot}" : $"serial-{Serial}");

    public override string ToString() => Label is not null ? $"token '{Label}'" : Slot is { } slot ? $"slot {slot}" : $"token with serial '{Serial}'";

    /// <summary>Whether a token (by its slot and info) is the one selected.</summary>
    public bool Matches(ulong slotId, ITokenInfo info) =>
        Label is not null ? string.Equals(info.Label.Trim(), Label, StringComparison.Ordinal)
        : Slot is { } slot ? slot == slotId
        : string.Equals(info.SerialNumber.Trim(), Serial, StringComparison.Ordinal);

    /// <summary>The slot holding the selected token.</summary>
    /// <exception cref="Pkcs11SetupException">No (or more than one) token matches; the message lists the tokens seen.</exception>
    public ISlot Resolve(IPkcs11Library library, string libraryPath)
    {
        var seen = new List<string>();
        var matches = new List<ISlot>();
        foreach (var slot in library.GetSlotList(SlotsType.WithTokenPresent))
        {
            ITokenInfo info;
            try
            {
                info = slot.GetTokenInfo();
            }
            catch (Pkcs11Exception ex)
            {
                // One unreadable slot (a token being initialised, a failing device) must not hide the others.
                seen.Add($"slot {slot.SlotId} unreadable ({ex.RV})");
                continue;
            }

            seen.Add($"{info.Label.Trim()} (slot {slot.SlotId}, serial {info.SerialNumber.Trim()})");
            if (Matches(slot.SlotId, info))
            {
                matches.Add(slot);
            }
        }

        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new Pkcs11SetupException($"PKCS#11 library '{libraryPath}' has no {this} (tokens: {(seen.Count == 0 ? "none" : string.Join(", ", seen))})"),
            _ => throw new Pkcs11SetupException($"PKCS#11 library '{libraryPath}' has {matches.Count} tokens matching {this}; select it by slot or serial"),
        };
    }
}
