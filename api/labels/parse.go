package labels

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Parse reads the string form of a label selector (what `?labelSelector=`
// and `kubectl -l` carry): comma-separated requirements, all of which must
// hold, each one of
//
//	key=value  key==value  key!=value
//	key in (v1,v2)  key notin (v1,v2)
//	key  !key
//	key>N  key<N
//
// Whitespace around tokens is ignored. An empty string selects everything.
// Keys must be qualified names and values label values; a value may be
// empty ("key=" matches a label with the empty value). Errors wrap
// ErrInvalidSelector and name the part at fault.
func Parse(s string) (Selector, error) {
	p := parser{lex: lexer{s: s}}
	reqs, err := p.parse()
	if err != nil {
		return Selector{}, fmt.Errorf("%w %q: %w", ErrInvalidSelector, s, err)
	}
	return NewSelector(reqs...), nil
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokComma
	tokOpenPar
	tokClosePar
	tokNot       // !
	tokEquals    // =
	tokDoubleEq  // ==
	tokNotEquals // !=
	tokGreater   // >
	tokLess      // <
	tokIn        // in
	tokNotIn     // notin
)

type token struct {
	kind tokenKind
	lit  string
	pos  int
}

func (t token) describe() string {
	if t.kind == tokEOF {
		return "end of string"
	}
	return fmt.Sprintf("%q at position %d", t.lit, t.pos)
}

// lexer splits a selector into tokens. Identifiers are runs of anything but
// whitespace and the special characters !=(),<>, as in Kubernetes.
type lexer struct {
	s   string
	pos int
}

func isSpecial(c byte) bool {
	return strings.IndexByte("!=(),<>", c) >= 0
}

func (l *lexer) next() token {
	for l.pos < len(l.s) {
		r := rune(l.s[l.pos])
		if r >= 0x80 || !unicode.IsSpace(r) {
			break
		}
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.s) {
		return token{kind: tokEOF, pos: start}
	}
	c := l.s[l.pos]
	two := func(second byte, double, single tokenKind) token {
		if l.pos+1 < len(l.s) && l.s[l.pos+1] == second {
			l.pos += 2
			return token{kind: double, lit: l.s[start:l.pos], pos: start}
		}
		l.pos++
		return token{kind: single, lit: l.s[start:l.pos], pos: start}
	}
	switch c {
	case '!':
		return two('=', tokNotEquals, tokNot)
	case '=':
		return two('=', tokDoubleEq, tokEquals)
	case ',':
		return l.single(tokComma)
	case '(':
		return l.single(tokOpenPar)
	case ')':
		return l.single(tokClosePar)
	case '<':
		return l.single(tokLess)
	case '>':
		return l.single(tokGreater)
	}
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		if isSpecial(c) || c < 0x80 && unicode.IsSpace(rune(c)) {
			break
		}
		l.pos++
	}
	lit := l.s[start:l.pos]
	switch lit {
	case "in":
		return token{kind: tokIn, lit: lit, pos: start}
	case "notin":
		return token{kind: tokNotIn, lit: lit, pos: start}
	}
	return token{kind: tokIdent, lit: lit, pos: start}
}

func (l *lexer) single(kind tokenKind) token {
	l.pos++
	return token{kind: kind, lit: l.s[l.pos-1 : l.pos], pos: l.pos - 1}
}

type parser struct {
	lex    lexer
	peeked *token
}

func (p *parser) peek() token {
	if p.peeked == nil {
		t := p.lex.next()
		p.peeked = &t
	}
	return *p.peeked
}

func (p *parser) consume() token {
	t := p.peek()
	p.peeked = nil
	return t
}

// isValue reports whether t can be a value: an identifier, or a keyword in
// value position ("env in (in,notin)" is legal).
func isValue(t token) bool {
	return t.kind == tokIdent || t.kind == tokIn || t.kind == tokNotIn
}

func (p *parser) parse() ([]Requirement, error) {
	if p.peek().kind == tokEOF {
		return nil, nil
	}
	var reqs []Requirement
	for {
		r, err := p.parseRequirement()
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
		switch t := p.consume(); t.kind {
		case tokEOF:
			return reqs, nil
		case tokComma:
			if n := p.peek(); n.kind != tokIdent && n.kind != tokNot {
				return nil, fmt.Errorf("found %s, expected a requirement after ','", n.describe())
			}
		default:
			return nil, fmt.Errorf("found %s, expected ',' or end of string", t.describe())
		}
	}
}

func (p *parser) parseRequirement() (Requirement, error) {
	t := p.consume()
	if t.kind == tokNot {
		k := p.consume()
		if k.kind != tokIdent {
			return Requirement{}, fmt.Errorf("found %s, expected a key after '!'", k.describe())
		}
		return checkedRequirement(k.lit, DoesNotExist, nil)
	}
	if t.kind != tokIdent {
		return Requirement{}, fmt.Errorf("found %s, expected a key", t.describe())
	}
	key := t.lit
	var op Operator
	switch o := p.peek(); o.kind {
	case tokEOF, tokComma:
		return checkedRequirement(key, Exists, nil)
	case tokEquals:
		op = Equals
	case tokDoubleEq:
		op = DoubleEquals
	case tokNotEquals:
		op = NotEquals
	case tokGreater:
		op = GreaterThan
	case tokLess:
		op = LessThan
	case tokIn:
		op = In
	case tokNotIn:
		op = NotIn
	default:
		return Requirement{}, fmt.Errorf("found %s after key %q, expected one of =, ==, !=, in, notin, >, <, ',' or end of string", o.describe(), key)
	}
	p.consume()
	var values []string
	if op == In || op == NotIn {
		vs, err := p.parseValueSet()
		if err != nil {
			return Requirement{}, fmt.Errorf("key %q: %w", key, err)
		}
		values = vs
	} else {
		switch v := p.peek(); {
		case v.kind == tokEOF || v.kind == tokComma:
			values = []string{""}
		case isValue(v):
			p.consume()
			values = []string{v.lit}
		default:
			return Requirement{}, fmt.Errorf("found %s after %q, expected a value", v.describe(), key+string(op))
		}
	}
	return checkedRequirement(key, op, values)
}

// parseValueSet reads "(v1,v2,...)". Empty entries are the empty value, so
// "()" is the set holding "" (as in Kubernetes).
func (p *parser) parseValueSet() ([]string, error) {
	if t := p.consume(); t.kind != tokOpenPar {
		return nil, fmt.Errorf("found %s, expected '('", t.describe())
	}
	var values []string
	expectValue := true
	for {
		t := p.consume()
		switch {
		case isValue(t):
			if !expectValue {
				return nil, fmt.Errorf("found %s, expected ',' or ')'", t.describe())
			}
			values = append(values, t.lit)
			expectValue = false
		case t.kind == tokComma:
			if expectValue {
				values = append(values, "")
			}
			expectValue = true
		case t.kind == tokClosePar:
			if expectValue {
				values = append(values, "")
			}
			slices.Sort(values)
			return slices.Compact(values), nil
		default:
			return nil, fmt.Errorf("found %s, expected a value, ',' or ')'", t.describe())
		}
	}
}
