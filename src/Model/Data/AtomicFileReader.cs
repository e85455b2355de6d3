using System.Globalization;
using System.Text;

namespace Kgglm.Data;

/// <summary>The field types of an atomic-file header (<c>name:type</c>).</summary>
public enum FieldType
{
    /// <summary><c>token</c>: an opaque string id.</summary>
    Token,

    /// <summary><c>float</c>: a number, read as float64.</summary>
    Float,

    /// <summary><c>token_seq</c>: tokens joined by <c>seq_separator</c>.</summary>
    TokenSeq,

    /// <summary><c>float_seq</c>: numbers joined by <c>seq_separator</c>.</summary>
    FloatSeq,
}

/// <summary>
/// Streams one atomic file row by row: a typed header line, then one row per line, fields
/// joined by <c>field_separator</c>. Fields are handed out as UTF-8 byte spans into a reused
/// buffer, so reading allocates nothing per row. Blank lines are skipped (as pandas does).
/// </summary>
internal sealed class AtomicFileReader : IDisposable
{
    const int InitialBuffer = 1 << 20;

    readonly FileStream _stream;
    readonly byte[] _separator;
    byte[] _buffer = new byte[InitialBuffer];
    int _pos;                 // first unread byte of _buffer
    int _end;                 // end of valid bytes in _buffer
    bool _eof;
    readonly int[] _fieldStart;   // [Columns] of the current row, offsets into _buffer
    readonly int[] _fieldLength;  // [Columns]

    AtomicFileReader(string path, FileStream stream, byte[] separator)
    {
        Path = path;
        _stream = stream;
        _separator = separator;
        if (!TryReadLine(out int start, out int length))
        {
            throw new DataFormatException(path, 1,
                "expected a header of name:type fields, found an empty file");
        }
        var header = _buffer.AsSpan(start, length);
        if (header.StartsWith("\uFEFF"u8))
        {
            header = header[3..];
        }
        var names = new List<string>();
        var types = new List<FieldType>();
        var separatorText = Encoding.UTF8.GetString(separator);
        foreach (var field in Encoding.UTF8.GetString(header).Split(separatorText))
        {
            var text = field.Trim();
            int colon = text.LastIndexOf(':');
            if (colon <= 0)
            {
                throw new DataFormatException(path, 1,
                    $"expected a header field 'name:type', found '{text}' (no type)");
            }
            names.Add(text[..colon]);
            types.Add(text[(colon + 1)..] switch
            {
                "token" => FieldType.Token,
                "float" => FieldType.Float,
                "token_seq" => FieldType.TokenSeq,
                "float_seq" => FieldType.FloatSeq,
                var other => throw new DataFormatException(path, 1,
                    "expected a type token, float, token_seq or float_seq, "
                    + $"found '{other}' in '{text}'"),
            });
        }
        Names = names;
        Types = types;
        _fieldStart = new int[names.Count];
        _fieldLength = new int[names.Count];
        LineNumber = 1;
    }

    /// <summary>The file being read.</summary>
    public string Path { get; }

    /// <summary>Header field names, in file order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Header field types, parallel to <see cref="Names"/>.</summary>
    public IReadOnlyList<FieldType> Types { get; }

    /// <summary>1-based line of the current row (1 = header).</summary>
    public long LineNumber { get; private set; }

    /// <summary>
    /// Opens <paramref name="path"/>; a missing file is a <see cref="DataFormatException"/>.
    /// </summary>
    public static AtomicFileReader Open(string path, FileFormat format)
    {
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, 0,
                $"expected an atomic file at '{System.IO.Path.GetFullPath(path)}', found none");
        }
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read,
            bufferSize: 1, FileOptions.SequentialScan);
        try
        {
            var separator = Encoding.UTF8.GetBytes(format.FieldSeparator);
            return new AtomicFileReader(path, stream, separator);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Index of header field <paramref name="name"/>, or -1.</summary>
    public int ColumnOf(string name)
    {
        for (int i = 0; i < Names.Count; i++)
        {
            if (Names[i] == name)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// Index of a column the caller cannot do without, optionally of a given type.
    /// </summary>
    public int RequireColumn(string name, FieldType? type = null)
    {
        int column = ColumnOf(name);
        if (column < 0)
        {
            throw new DataFormatException(Path, 1,
                $"expected a column '{name}' in the header, found '{string.Join(", ", Names)}'");
        }
        if (type is { } t && Types[column] != t)
        {
            throw new DataFormatException(Path, 1,
                $"expected column '{name}' of type {TypeName(t)}, "
                + $"found {TypeName(Types[column])}");
        }
        return column;
    }

    /// <summary>Advances to the next non-blank row; false at the end of the file.</summary>
    public bool ReadRow()
    {
        int start, length;
        do
        {
            if (!TryReadLine(out start, out length))
            {
                return false;
            }
            LineNumber++;
        }
        while (length == 0);

        var line = _buffer.AsSpan(start, length);
        int columns = _fieldStart.Length;
        int found = 0;
        int offset = 0;
        while (true)
        {
            int next = line[offset..].IndexOf(_separator);
            int fieldLength = next < 0 ? line.Length - offset : next;
            if (found < columns)
            {
                _fieldStart[found] = start + offset;
                _fieldLength[found] = fieldLength;
            }
            found++;
            if (next < 0)
            {
                break;
            }
            offset += next + _separator.Length;
        }
        if (found != columns)
        {
            throw new DataFormatException(Path, LineNumber,
                $"expected {columns} fields as in the header, found {found}");
        }
        return true;
    }

    /// <summary>The raw bytes of <paramref name="column"/> in the current row.</summary>
    public ReadOnlySpan<byte> Field(int column) =>
        _buffer.AsSpan(_fieldStart[column], _fieldLength[column]);

    /// <summary>The field as text (allocates; for display columns only).</summary>
    public string FieldString(int column) => Encoding.UTF8.GetString(Field(column));

    /// <summary>
    /// <paramref name="column"/> as a float64; an empty field is NaN (pandas' missing value),
    /// anything else unparsable is a <see cref="DataFormatException"/>.
    /// </summary>
    public double Float(int column)
    {
        var field = Field(column);
        if (field.IsEmpty)
        {
            return double.NaN;
        }

        // Ratings and timestamps are nearly always plain integers: skip the general parser.
        if (field.Length <= 15)
        {
            long value = 0;
            int i = 0;
            for (; i < field.Length && (uint)(field[i] - '0') <= 9; i++)
            {
                value = value * 10 + (field[i] - '0');
            }
            if (i == field.Length)
            {
                return value;
            }
        }
        if (double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double x))
        {
            return x;
        }
        throw new DataFormatException(Path, LineNumber,
            $"expected a number in float column '{Names[column]}', "
            + $"found '{Encoding.UTF8.GetString(field)}'");
    }

    /// <inheritdoc/>
    public void Dispose() => _stream.Dispose();

    static string TypeName(FieldType type) => type switch
    {
        FieldType.Token => "token",
        FieldType.Float => "float",
        FieldType.TokenSeq => "token_seq",
        _ => "float_seq",
    };

    // Finds the next line in the buffer, refilling it (and growing it for very long lines);
    // the line excludes '\n' and a trailing '\r'.
    bool TryReadLine(out int start, out int length)
    {
        while (true)
        {
            int newline = _buffer.AsSpan(_pos, _end - _pos).IndexOf((byte)'\n');
            if (newline >= 0 || (_eof && _end > _pos))
            {
                start = _pos;
                length = newline >= 0 ? newline : _end - _pos;
                _pos += newline >= 0 ? newline + 1 : length;
                if (length > 0 && _buffer[start + length - 1] == '\r')
                {
                    length--;
                }
                return true;
            }
            if (_eof)
            {
                start = length = 0;
                return false;
            }
            Refill();
        }
    }

    void Refill()
    {
        int pending = _end - _pos;
        if (pending == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        else if (_pos > 0)
        {
            _buffer.AsSpan(_pos, pending).CopyTo(_buffer);
        }
        _pos = 0;
        _end = pending;
        while (_end < _buffer.Length)
        {
            int read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                _eof = true;
                break;
            }
            _end += read;
        }
    }
}
