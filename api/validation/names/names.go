// Package names holds the Kubernetes rules for names, label keys and values
// and other identifiers (what k8s.io/apimachinery/pkg/util/validation does),
// as functions that return a list of human-readable problems, empty when
// the value is valid.
//
// It is a leaf package so that both api/labels and api/validation can use
// it. It is written here rather than imported because apimachinery's
// validation package drags in the whole apimachinery module tree for a few
// regular expressions.
package names

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Length limits used by the checks below.
const (
	// DNS1123LabelMaxLength is the longest DNS-1123 label.
	DNS1123LabelMaxLength = 63
	// DNS1123SubdomainMaxLength is the longest DNS-1123 subdomain.
	DNS1123SubdomainMaxLength = 253
	// DNS1035LabelMaxLength is the longest DNS-1035 label.
	DNS1035LabelMaxLength = 63
	// QualifiedNameMaxLength is the longest name part of a qualified name.
	QualifiedNameMaxLength = 63
	// LabelValueMaxLength is the longest label value.
	LabelValueMaxLength = 63
)

const (
	dns1123LabelFmt     = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
	dns1123SubdomainFmt = dns1123LabelFmt + "(\\." + dns1123LabelFmt + ")*"
	dns1035LabelFmt     = "[a-z]([-a-z0-9]*[a-z0-9])?"
	qualifiedNameFmt    = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
	labelValueFmt       = "(" + qualifiedNameFmt + ")?"
	envVarNameFmt       = "[-._a-zA-Z][-._a-zA-Z0-9]*"
	cIdentifierFmt      = "[A-Za-z_][A-Za-z0-9_]*"
	portNameFmt         = "[-a-z0-9]+"
)

var (
	dns1123LabelRe     = regexp.MustCompile("^" + dns1123LabelFmt + "$")
	dns1123SubdomainRe = regexp.MustCompile("^" + dns1123SubdomainFmt + "$")
	dns1035LabelRe     = regexp.MustCompile("^" + dns1035LabelFmt + "$")
	qualifiedNameRe    = regexp.MustCompile("^" + qualifiedNameFmt + "$")
	labelValueRe       = regexp.MustCompile("^" + labelValueFmt + "$")
	envVarNameRe       = regexp.MustCompile("^" + envVarNameFmt + "$")
	cIdentifierRe      = regexp.MustCompile("^" + cIdentifierFmt + "$")
	portNameCharsRe    = regexp.MustCompile("^" + portNameFmt + "$")
	portNameOneLetter  = regexp.MustCompile("[a-z]")
)

func maxLenError(n int) string {
	return fmt.Sprintf("must be no more than %d characters", n)
}

func regexError(msg, fmtRe string, examples ...string) string {
	if len(examples) == 0 {
		return msg + " (regex used for validation is '" + fmtRe + "')"
	}
	msg += " (e.g. "
	for i, ex := range examples {
		if i > 0 {
			msg += " or "
		}
		msg += "'" + ex + "', "
	}
	return msg + "regex used for validation is '" + fmtRe + "')"
}

// IsDNS1123Label checks that value is a lower-case RFC 1123 label: at most
// 63 characters of [a-z0-9-], starting and ending with an alphanumeric.
func IsDNS1123Label(value string) []string {
	var errs []string
	if len(value) > DNS1123LabelMaxLength {
		errs = append(errs, maxLenError(DNS1123LabelMaxLength))
	}
	if !dns1123LabelRe.MatchString(value) {
		errs = append(errs, regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", dns1123LabelFmt, "my-name", "123-abc"))
	}
	return errs
}

// IsDNS1123Subdomain checks that value is a lower-case RFC 1123 subdomain:
// at most 253 characters, dot-separated DNS-1123 labels.
func IsDNS1123Subdomain(value string) []string {
	var errs []string
	if len(value) > DNS1123SubdomainMaxLength {
		errs = append(errs, maxLenError(DNS1123SubdomainMaxLength))
	}
	if !dns1123SubdomainRe.MatchString(value) {
		errs = append(errs, regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", dns1123SubdomainFmt, "example.com"))
	}
	return errs
}

// IsDNS1035Label checks that value is a lower-case RFC 1035 label: like a
// DNS-1123 label but starting with a letter (Service names).
func IsDNS1035Label(value string) []string {
	var errs []string
	if len(value) > DNS1035LabelMaxLength {
		errs = append(errs, maxLenError(DNS1035LabelMaxLength))
	}
	if !dns1035LabelRe.MatchString(value) {
		errs = append(errs, regexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", dns1035LabelFmt, "my-name", "abc-123"))
	}
	return errs
}

// IsQualifiedName checks a label key, annotation key or finalizer name: an
// optional DNS-1123 subdomain prefix and a slash, then a name of at most 63
// characters of [A-Za-z0-9-_.] starting and ending with an alphanumeric.
func IsQualifiedName(value string) []string {
	var errs []string
	parts := strings.Split(value, "/")
	var name string
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		var prefix string
		prefix, name = parts[0], parts[1]
		if prefix == "" {
			errs = append(errs, "prefix part must be non-empty")
		} else if msgs := IsDNS1123Subdomain(prefix); len(msgs) != 0 {
			for _, m := range msgs {
				errs = append(errs, "prefix part "+m)
			}
		}
	default:
		return append(errs, regexError("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", qualifiedNameFmt, "MyName", "my.name", "123-abc")+
			" with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")
	}
	if name == "" {
		errs = append(errs, "name part must be non-empty")
	} else if len(name) > QualifiedNameMaxLength {
		errs = append(errs, "name part "+maxLenError(QualifiedNameMaxLength))
	}
	if name != "" && !qualifiedNameRe.MatchString(name) {
		errs = append(errs, "name part "+regexError("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", qualifiedNameFmt, "MyName", "my.name", "123-abc"))
	}
	return errs
}

// IsValidLabelValue checks a label value: empty, or at most 63 characters
// of [A-Za-z0-9-_.] starting and ending with an alphanumeric.
func IsValidLabelValue(value string) []string {
	var errs []string
	if len(value) > LabelValueMaxLength {
		errs = append(errs, maxLenError(LabelValueMaxLength))
	}
	if !labelValueRe.MatchString(value) {
		errs = append(errs, regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", labelValueFmt, "MyValue", "my_value", "12345"))
	}
	return errs
}

// IsEnvVarName checks an environment variable name: [-._a-zA-Z] then
// [-._a-zA-Z0-9]*, and not "." or "..".
func IsEnvVarName(value string) []string {
	var errs []string
	if !envVarNameRe.MatchString(value) {
		errs = append(errs, regexError("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit", envVarNameFmt, "my.env-name", "MY_ENV.NAME", "MyEnvName1"))
	}
	if value == "." || value == ".." {
		errs = append(errs, "must not be '.' or '..'")
	}
	return errs
}

// IsConfigMapKey checks a key of a ConfigMap or Secret: at most 253
// characters of [-._a-zA-Z0-9], not "." or "..", and not starting "..".
func IsConfigMapKey(value string) []string {
	var errs []string
	if len(value) > DNS1123SubdomainMaxLength {
		errs = append(errs, maxLenError(DNS1123SubdomainMaxLength))
	}
	for _, r := range value {
		if !(r == '-' || r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			errs = append(errs, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
			break
		}
	}
	switch {
	case value == "":
		errs = append(errs, "must not be empty")
	case value == "." || value == "..":
		errs = append(errs, "must not be '.' or '..'")
	case strings.HasPrefix(value, ".."):
		errs = append(errs, "must not start with '..'")
	}
	return errs
}

// IsCIdentifier checks a C identifier: [A-Za-z_][A-Za-z0-9_]*.
func IsCIdentifier(value string) []string {
	if !cIdentifierRe.MatchString(value) {
		return []string{regexError("a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'", cIdentifierFmt, "my_name", "MY_NAME", "MyName")}
	}
	return nil
}

// IsValidPortName checks a port name (an IANA_SVC_NAME, RFC 6335): at most
// 15 characters of [a-z0-9-], at least one letter, no leading, trailing or
// double hyphen.
func IsValidPortName(port string) []string {
	var errs []string
	if len(port) > 15 {
		errs = append(errs, maxLenError(15))
	}
	if !portNameCharsRe.MatchString(port) {
		errs = append(errs, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
	}
	if !portNameOneLetter.MatchString(port) {
		errs = append(errs, "must contain at least one letter (a-z)")
	}
	if strings.Contains(port, "--") {
		errs = append(errs, "must not contain consecutive hyphens")
	}
	if port != "" && (port[0] == '-' || port[len(port)-1] == '-') {
		errs = append(errs, "must not begin or end with a hyphen")
	}
	return errs
}

// IsValidPortNum checks that port is in 1..65535.
func IsValidPortNum(port int) []string {
	if port < 1 || port > 65535 {
		return []string{"must be between 1 and 65535, inclusive"}
	}
	return nil
}

// IsValidIP checks that value is an IPv4 or IPv6 address in canonical-ish
// textual form (as net/netip parses it, without a zone).
func IsValidIP(value string) []string {
	if a, err := netip.ParseAddr(value); err != nil || a.Zone() != "" {
		return []string{"must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"}
	}
	return nil
}
