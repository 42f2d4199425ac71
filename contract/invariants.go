package contract

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// The semantic invariants checked on a 2xx confirm answer, beyond what the
// schema says. Each can be skipped by name (Config.SkipInvariants).
const (
	// InvariantOfferIDEchoed: data.offer_id is the confirmed offer's id.
	InvariantOfferIDEchoed = "offer-id-echoed"
	// InvariantQuoteIDEchoed: data.quote.uuid, when present, is the quote sent.
	InvariantQuoteIDEchoed = "quote-id-echoed"
	// InvariantPolicyDatesOrdered: every policy's policy_start_date is not
	// after its policy_end_date.
	InvariantPolicyDatesOrdered = "policy-dates-ordered"
	// InvariantAmountsNonNegative: data.price and every policy's price, tax
	// and commission are >= 0.
	InvariantAmountsNonNegative = "amounts-non-negative"
	// InvariantCurrencyCode: data.currency is three upper-case letters.
	InvariantCurrencyCode = "currency-code"
	// InvariantTimestampsOrdered: created_at is not after updated_at (the
	// booking, every policy, the policyholder).
	InvariantTimestampsOrdered = "timestamps-ordered"
	// InvariantURLsAbsoluteHTTPS: coi.url, coi.pdf, account_url, fnol_link,
	// sign_up_url and every pds_url are absolute https URLs (http is allowed
	// when the target itself is on loopback).
	InvariantURLsAbsoluteHTTPS = "urls-absolute-https"
)

// Invariants returns the names of the semantic invariants in the order they
// are checked; a fresh slice on every call.
func Invariants() []string {
	return []string{
		InvariantOfferIDEchoed,
		InvariantQuoteIDEchoed,
		InvariantPolicyDatesOrdered,
		InvariantAmountsNonNegative,
		InvariantCurrencyCode,
		InvariantTimestampsOrdered,
		InvariantURLsAbsoluteHTTPS,
	}
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// invariantInput is what the invariants compare the answer against.
type invariantInput struct {
	offerID, quoteID string
	loopback         bool
	skip             []string
}

// checkInvariants checks data (the decoded "data" object) and returns one
// violation per broken invariant instance. Fields of the wrong type or
// missing are left to the schema check, except data.offer_id, whose absence
// breaks offer-id-echoed.
func checkInvariants(data map[string]any, in invariantInput) []Violation {
	var out []Violation
	add := func(name, path, expected, observed, msg string) {
		out = append(out, Violation{Rule: RuleInvariantPrefix + name, Path: path,
			Expected: expected, Observed: observed, Message: msg})
	}
	on := func(name string) bool { return !slices.Contains(in.skip, name) }
	policies, _ := data["policies"].([]any)

	if on(InvariantOfferIDEchoed) {
		got, ok := data["offer_id"].(string)
		switch {
		case !ok:
			add(InvariantOfferIDEchoed, "$.data.offer_id", in.offerID, describe(data["offer_id"]),
				"the answer does not echo the confirmed offer id")
		case got != in.offerID:
			add(InvariantOfferIDEchoed, "$.data.offer_id", in.offerID, got,
				"the answer names another offer than the one confirmed")
		}
	}
	if on(InvariantQuoteIDEchoed) && in.quoteID != "" {
		if q, ok := data["quote"].(map[string]any); ok {
			if got, ok := q["uuid"].(string); ok && got != in.quoteID {
				add(InvariantQuoteIDEchoed, "$.data.quote.uuid", in.quoteID, got,
					"the answer names another quote than the one sent")
			}
		}
	}
	if on(InvariantPolicyDatesOrdered) {
		for i, p := range policies {
			pm, _ := p.(map[string]any)
			if err := ordered(pm, "policy_start_date", "policy_end_date"); err != "" {
				add(InvariantPolicyDatesOrdered, fmt.Sprintf("$.data.policies[%d]", i),
					"policy_start_date <= policy_end_date", err, "policy ends before it starts")
			}
		}
	}
	if on(InvariantAmountsNonNegative) {
		if n, ok := data["price"].(float64); ok && n < 0 {
			add(InvariantAmountsNonNegative, "$.data.price", ">= 0", num(n), "negative amount")
		}
		for i, p := range policies {
			pm, _ := p.(map[string]any)
			for _, k := range []string{"price", "tax", "commission"} {
				if n, ok := pm[k].(float64); ok && n < 0 {
					add(InvariantAmountsNonNegative, fmt.Sprintf("$.data.policies[%d].%s", i, k), ">= 0", num(n), "negative amount")
				}
			}
		}
	}
	if on(InvariantCurrencyCode) {
		if c, ok := data["currency"].(string); ok && !currencyRE.MatchString(c) {
			add(InvariantCurrencyCode, "$.data.currency", "three upper-case letters (ISO 4217)", c, "not a currency code")
		}
	}
	if on(InvariantTimestampsOrdered) {
		check := func(path string, m map[string]any) {
			if err := ordered(m, "created_at", "updated_at"); err != "" {
				add(InvariantTimestampsOrdered, path, "created_at <= updated_at", err, "updated before it was created")
			}
		}
		check("$.data", data)
		for i, p := range policies {
			pm, _ := p.(map[string]any)
			check(fmt.Sprintf("$.data.policies[%d]", i), pm)
		}
		if ph, ok := data["policyholder"].(map[string]any); ok {
			check("$.data.policyholder", ph)
		}
	}
	if on(InvariantURLsAbsoluteHTTPS) {
		check := func(path string, v any) {
			s, ok := v.(string)
			if !ok || s == "" {
				return
			}
			if msg := badURL(s, in.loopback); msg != "" {
				add(InvariantURLsAbsoluteHTTPS, path, "absolute https URL", s, msg)
			}
		}
		if coi, ok := data["coi"].(map[string]any); ok {
			check("$.data.coi.url", coi["url"])
			check("$.data.coi.pdf", coi["pdf"])
		}
		for _, k := range []string{"account_url", "fnol_link", "sign_up_url"} {
			check("$.data."+k, data[k])
		}
		for i, p := range policies {
			pm, _ := p.(map[string]any)
			check(fmt.Sprintf("$.data.policies[%d].pds_url", i), pm["pds_url"])
		}
	}
	return out
}

// ordered returns "" when m[a] <= m[b] or either is absent or unparsable
// (the format check reports those), else the observed pair.
func ordered(m map[string]any, a, b string) string {
	sa, okA := m[a].(string)
	sb, okB := m[b].(string)
	if !okA || !okB {
		return ""
	}
	ta, errA := time.Parse(time.RFC3339Nano, sa)
	tb, errB := time.Parse(time.RFC3339Nano, sb)
	if errA != nil || errB != nil || !ta.After(tb) {
		return ""
	}
	return a + "=" + sa + " " + b + "=" + sb
}

func badURL(s string, loopback bool) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "not an absolute URL"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && loopback:
		return ""
	default:
		return "scheme " + u.Scheme + " is not https"
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "absent or null"
	case string:
		return v
	default:
		return fmt.Sprintf("%T", v)
	}
}
