namespace RingKv.Core.Keys;

/// <summary>Why a key was refused. Each maps to one problem <c>type</c> in the API.</summary>
public enum KeyError
{
    None,
    Empty,
    TooLong,
    InvalidPercentEncoding,
    InvalidUtf8,
    ControlCharacter,
    DoubleEncoded,
    DotSegment,
}
