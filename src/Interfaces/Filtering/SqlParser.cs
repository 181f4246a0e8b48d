namespace OrleansMQ.Filtering;

/// <summary>
/// Reads an SQL92 filter into <see cref="SqlCondition"/>s: a recursive descent over this grammar (keywords in any case):
/// <code>
/// condition  := and ( OR and )*
/// and        := not ( AND not )*
/// not        := NOT not | predicate
/// predicate  := '(' condition ')'
///             | operand ( '=' | '&lt;&gt;' | '&lt;' | '&lt;=' | '&gt;' | '&gt;=' ) operand
///             | property [NOT] BETWEEN number AND number
///             | property [NOT] IN '(' string ( ',' string )* ')'
///             | property IS [NOT] NULL
///             | property [NOT] ( CONTAINS | STARTSWITH | ENDSWITH ) string
///             | property | TRUE | FALSE
/// operand    := property | string | number | TRUE | FALSE
/// </code>
/// so NOT binds tighter than AND, and AND tighter than OR. Errors name what was expected and the column (from 1).
/// </summary>
internal sealed class SqlParser
{
    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "AND", "OR", "NOT", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE", "CONTAINS", "STARTSWITH", "ENDSWITH",
    };

    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _next;

    private SqlParser(string text)
    {
        _text = text;
        _tokens = Tokenize(text);
    }

    /// <exception cref="MQException">InvalidFilterExpression.</exception>
    public static SqlCondition Parse(string text)
    {
        var parser = new SqlParser(text);
        var condition = parser.ParseOr(depth: 0);
        if (parser.Peek.Kind != TokenKind.End)
        {
            throw parser.Error($"AND, OR or the end after {Describe(parser._tokens[parser._next - 1])}", parser.Peek);
        }
        return condition;
    }

    private Token Peek => _tokens[_next];

    private Token Take() => _tokens[_next++];

    private SqlCondition ParseOr(int depth)
    {
        var terms = new List<SqlCondition> { ParseAnd(depth) };
        while (TakeKeyword("OR"))
        {
            terms.Add(ParseAnd(depth));
        }
        return terms.Count == 1 ? terms[0] : SqlJunction.AnyOf(terms);
    }

    private SqlCondition ParseAnd(int depth)
    {
        var terms = new List<SqlCondition> { ParseNot(depth) };
        while (TakeKeyword("AND"))
        {
            terms.Add(ParseNot(depth));
        }
        return terms.Count == 1 ? terms[0] : SqlJunction.AllOf(terms);
    }

    private SqlCondition ParseNot(int depth)
    {
        if (Peek.IsKeyword("NOT"))
        {
            var not = Take();
            CheckDepth(depth + 1, not);
            return new SqlNot(ParseNot(depth + 1));
        }
        return ParsePredicate(depth);
    }

    private SqlCondition ParsePredicate(int depth)
    {
        if (Peek.IsSymbol("("))
        {
            var open = Take();
            CheckDepth(depth + 1, open);
            var inner = ParseOr(depth + 1);
            Expect(")", $"')' (for the '(' at {open.Column})");
            return inner;
        }

        var start = Peek;
        var left = ParseOperand("a condition (a property, a value or '(')");
        var next = Peek;
        if (next.Kind == TokenKind.Symbol && ComparisonOf(next.Text) is { } op)
        {
            Take();
            var right = ParseOperand($"a value after '{next.Text}'");
            if (op is not (SqlComparison.Equal or SqlComparison.NotEqual))
            {
                RequireOrderable(left, start, next);
                RequireOrderable(right, _tokens[_next - 1], next);
            }
            return new SqlCompare(left, op, right);
        }

        var negated = false;
        if (next.IsKeyword("NOT"))
        {
            var after = _tokens[_next + 1];
            if (!(after.IsKeyword("BETWEEN") || after.IsKeyword("IN") || after.IsKeyword("CONTAINS") || after.IsKeyword("STARTSWITH") || after.IsKeyword("ENDSWITH")))
            {
                throw Error("BETWEEN, IN, CONTAINS, STARTSWITH or ENDSWITH after NOT", after);
            }
            Take();
            negated = true;
            next = Peek;
        }

        if (next.IsKeyword("BETWEEN"))
        {
            var name = RequireProperty(left, start, next);
            Take();
            var low = ParseNumber("a number after BETWEEN");
            Expect("AND", "AND between the bounds of BETWEEN");
            var highToken = Peek;
            var high = ParseNumber("a number after BETWEEN … AND");
            if (low.CompareTo(high) > 0)
            {
                throw Error($"a high bound of at least {low} (BETWEEN takes the low bound first)", highToken);
            }
            return new SqlBetween(name, low, high, negated);
        }
        if (next.IsKeyword("IN"))
        {
            var name = RequireProperty(left, start, next);
            Take();
            Expect("(", "'(' after IN");
            var values = new HashSet<string>(StringComparer.Ordinal) { ParseString("a string in quotes in the IN list") };
            while (Peek.IsSymbol(","))
            {
                Take();
                values.Add(ParseString("a string in quotes after ','"));
            }
            Expect(")", "',' or ')' in the IN list");
            return new SqlIn(name, values, negated);
        }
        if (next.Kind == TokenKind.Keyword && StringTestOf(next.Text) is { } test)
        {
            var name = RequireProperty(left, start, next);
            Take();
            return new SqlStringMatch(name, test, ParseString($"a string in quotes after {next.Text}"), negated);
        }
        if (next.IsKeyword("IS"))
        {
            var name = RequireProperty(left, start, next);
            Take();
            var isNot = TakeKeyword("NOT");
            Expect("NULL", isNot ? "NULL after IS NOT" : "NULL or NOT NULL after IS");
            return new SqlIsNull(name, isNot);
        }

        return left switch
        {
            SqlProperty property => new SqlBooleanProperty(property.Name),
            SqlLiteral { Value.Kind: SqlValueKind.Boolean } literal => new SqlConstant(literal.Value.Boolean),
            _ => throw Error($"a comparison after {Describe(start)}", next),
        };
    }

    private SqlOperand ParseOperand(string expected)
    {
        var token = Peek;
        switch (token.Kind)
        {
            case TokenKind.Identifier:
                Take();
                return new SqlProperty(token.Text);
            case TokenKind.String:
                Take();
                return new SqlLiteral(SqlValue.String(token.Value!));
            case TokenKind.Keyword when token.IsKeyword("TRUE") || token.IsKeyword("FALSE"):
                Take();
                var value = token.IsKeyword("TRUE");
                return new SqlLiteral(new SqlValue(SqlValueKind.Boolean, value ? "TRUE" : "FALSE", Boolean: value));
            case TokenKind.Keyword when token.IsKeyword("NULL"):
                throw Error($"{expected}; to test for a missing property write 'IS NULL'", token);
            case TokenKind.Number:
            case TokenKind.Symbol when token.Text is "-" or "+":
                var number = ParseNumber(expected);
                return new SqlLiteral(new SqlValue(SqlValueKind.Number, number.ToString(), number));
            default:
                throw Error(expected, token);
        }
    }

    private SqlNumber ParseNumber(string expected)
    {
        var negative = false;
        if (Peek.IsSymbol("-") || Peek.IsSymbol("+"))
        {
            negative = Take().Text == "-";
        }
        var token = Peek;
        if (token.Kind != TokenKind.Number)
        {
            throw Error(expected, token);
        }
        Take();
        if (!SqlNumber.TryParse(token.Value, out var number))
        {
            throw Error($"a number, not {Describe(token)}", token);
        }
        return negative ? number.Negate() : number;
    }

    private string ParseString(string expected)
    {
        var token = Peek;
        if (token.Kind != TokenKind.String)
        {
            throw Error(expected, token);
        }
        Take();
        return token.Value!;
    }

    private string RequireProperty(SqlOperand left, Token start, Token op) =>
        left is SqlProperty property ? property.Name : throw Error($"a property name before {op.Text}", start);

    private void RequireOrderable(SqlOperand operand, Token at, Token op)
    {
        // As RocketMQ: ordering compares numbers; a string or boolean literal there is a mistake worth naming now.
        if (operand is SqlLiteral { Value.Kind: not SqlValueKind.Number })
        {
            throw Error($"a number or a property on either side of '{op.Text}' ({Describe(at)} cannot be ordered; only '=' and '<>' compare strings)", at);
        }
    }

    private void CheckDepth(int depth, Token at)
    {
        if (depth > SqlExpression.MaxNesting)
        {
            throw Error($"at most {SqlExpression.MaxNesting} nested parentheses or NOTs", at);
        }
    }

    private bool TakeKeyword(string keyword)
    {
        if (!Peek.IsKeyword(keyword)) return false;
        Take();
        return true;
    }

    private void Expect(string text, string expected)
    {
        var token = Peek;
        if (!(token.IsSymbol(text) || token.IsKeyword(text)))
        {
            throw Error(expected, token);
        }
        Take();
    }

    private static SqlComparison? ComparisonOf(string symbol) => symbol switch
    {
        "=" => SqlComparison.Equal,
        "<>" => SqlComparison.NotEqual,
        "<" => SqlComparison.Less,
        "<=" => SqlComparison.LessOrEqual,
        ">" => SqlComparison.Greater,
        ">=" => SqlComparison.GreaterOrEqual,
        _ => null,
    };

    private static SqlStringTest? StringTestOf(string keyword) => keyword switch
    {
        "CONTAINS" => SqlStringTest.Contains,
        "STARTSWITH" => SqlStringTest.StartsWith,
        "ENDSWITH" => SqlStringTest.EndsWith,
        _ => null,
    };

    private static string Describe(Token token) => token.Kind switch
    {
        TokenKind.End => "the end",
        TokenKind.String => $"'{token.Value}'",
        _ => $"'{token.Text}'",
    };

    private MQException Error(string expected, Token at) => Error(_text, $"expected {expected} at {at.Column}" + (at.Kind == TokenKind.End ? "" : $", found {Describe(at)}"));

    private static MQException Error(string text, string what) =>
        new(MQErrorCode.InvalidFilterExpression, $"SQL92 filter: {what} in \"{text}\"");

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            var start = i;
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (char.IsAsciiLetter(c) || c is '_' or '$')
            {
                // Dots are allowed inside names (order.region), which RocketMQ's grammar does not accept.
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '$' or '.')) i++;
                var word = text[start..i];
                tokens.Add(Keywords.Contains(word)
                    ? new Token(TokenKind.Keyword, word.ToUpperInvariant(), start)
                    : new Token(TokenKind.Identifier, word, start));
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
            {
                while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
                if (i < text.Length && text[i] is 'e' or 'E')
                {
                    i++;
                    if (i < text.Length && text[i] is '+' or '-') i++;
                    while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
                }
                var number = text[start..i];
                if (i < text.Length && text[i] is 'l' or 'L') i++; // Java's long suffix, accepted as RocketMQ does
                if (i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] is '_' or '$'))
                {
                    throw Error(text, $"expected a number at {start + 1}, found '{text[start..(i + 1)]}' (a name cannot start with a digit)");
                }
                tokens.Add(new Token(TokenKind.Number, text[start..i], start, number));
            }
            else if (c == '\'')
            {
                var value = new System.Text.StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw Error(text, $"expected a closing quote for the string that starts at {start + 1}");
                    }
                    if (text[i] == '\'')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '\'')
                        {
                            value.Append('\''); // '' is a quote inside a string, as in SQL
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    value.Append(text[i++]);
                }
                tokens.Add(new Token(TokenKind.String, text[start..i], start, value.ToString()));
            }
            else
            {
                var two = i + 1 < text.Length ? text.Substring(i, 2) : "";
                var symbol = two switch
                {
                    "<>" or "<=" or ">=" => two,
                    "!=" => throw Error(text, $"'!=' at {start + 1} is not SQL92; write '<>'"),
                    "==" => throw Error(text, $"'==' at {start + 1} is not SQL92; write '='"),
                    "||" or "&&" => throw Error(text, $"'{two}' at {start + 1} is not SQL92; write {(two == "||" ? "OR" : "AND")} (tag expressions such as 'A || B' are subscribed by tag, not by SQL)"),
                    _ => c is '=' or '<' or '>' or '(' or ')' or ',' or '-' or '+' ? c.ToString() : null,
                } ?? throw Error(text, $"unexpected character '{c}' at {start + 1}");
                i += symbol.Length;
                tokens.Add(new Token(TokenKind.Symbol, symbol, start));
            }
        }
        tokens.Add(new Token(TokenKind.End, "", text.Length));
        return tokens;
    }

    private enum TokenKind
    {
        End,
        Identifier,
        Keyword,
        String,
        Number,
        Symbol,
    }

    /// <param name="Kind">What the token is.</param>
    /// <param name="Text">As written (keywords in upper case).</param>
    /// <param name="Offset">Where it starts, from 0.</param>
    /// <param name="Value">A string's content without quotes, or a number's digits without a suffix.</param>
    private readonly record struct Token(TokenKind Kind, string Text, int Offset, string? Value = null)
    {
        /// <summary>The column people count, from 1.</summary>
        public int Column => Offset + 1;

        public bool IsKeyword(string keyword) => Kind == TokenKind.Keyword && Text == keyword;

        public bool IsSymbol(string symbol) => Kind == TokenKind.Symbol && Text == symbol;
    }
}
