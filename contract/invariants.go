package contract

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const ruleInvariant = "invariant:" // prefixes a broken invariant's rule: "invariant:offer-id-echoed"

// report records one broken instance of an invariant.
type report func(path, expected, observed, reason string)

// invariant is one semantic invariant of a 2xx confirm answer's data object.
// Missing members and wrong types are left to the schema check (but a
// missing data.offer_id breaks offer-id-echoed).
type invariant struct {
	name  string
	check func(data map[string]any, cc caseContext, add report)
}

// invariants returns the semantic invariants in the order they are checked.
func invariants() []invariant {
	return []invariant{
		{"offer-id-echoed", offerIDEchoed},
		{"quote-id-echoed", quoteIDEchoed},
		{"policy-dates-ordered", policyDatesOrdered},
		{"amounts-non-negative", amountsNonNegative},
		{"currency-code", currencyCode},
		{"timestamps-ordered", timestampsOrdered},
		{"urls-absolute-https", urlsAbsoluteHTTPS},
	}
}

// Invariants returns the names of the semantic invariants checked on a 2xx
// confirm answer beyond the schema, in order, each skippable by name
// (Config.SkipInvariants); a fresh slice on every call.
func Invariants() []string {
	var out []string
	for _, inv := range invariants() {
		out = append(out, inv.name)
	}
	return out
}

// checkInvariants returns one violation per broken invariant instance of data (the "data" object).
func checkInvariants(data map[string]any, cc caseContext) []Violation {
	var out []Violation
	for _, inv := range invariants() {
		if slices.Contains(cc.SkipInvariants, inv.name) {
			continue
		}
		inv.check(data, cc, func(path, expected, observed, reason string) {
			out = append(out, Violation{Rule: ruleInvariant + inv.name, Path: path,
				Expected: expected, Observed: observed, Reason: reason})
		})
	}
	return out
}

// offerIDEchoed: data.offer_id is the confirmed offer's id.
func offerIDEchoed(data map[string]any, cc caseContext, add report) {
	switch got, ok := data["offer_id"].(string); {
	case !ok && data["offer_id"] == nil:
		add("$.data.offer_id", cc.OfferID, "absent or null", "the answer does not echo the confirmed offer id")
	case !ok:
		add("$.data.offer_id", cc.OfferID, fmt.Sprintf("%T", data["offer_id"]), "the answer does not echo the confirmed offer id")
	case got != cc.OfferID:
		add("$.data.offer_id", cc.OfferID, got, "the answer names another offer than the one confirmed")
	}
}

// quoteIDEchoed: data.quote.uuid, when present, is the quote sent.
func quoteIDEchoed(data map[string]any, cc caseContext, add report) {
	q, _ := data["quote"].(map[string]any)
	if got, ok := q["uuid"].(string); ok && cc.QuoteID != "" && got != cc.QuoteID {
		add("$.data.quote.uuid", cc.QuoteID, got, "the answer names another quote than the one sent")
	}
}

// policyDatesOrdered: no policy's policy_start_date is after its policy_end_date.
func policyDatesOrdered(data map[string]any, _ caseContext, add report) {
	eachPolicy(data, func(path string, p map[string]any) {
		ordered(p, "policy_start_date", "policy_end_date", path, "policy ends before it starts", add)
	})
}

// amountsNonNegative: data.price and every policy's price, tax and commission are >= 0.
func amountsNonNegative(data map[string]any, _ caseContext, add report) {
	if n, ok := data["price"].(float64); ok && n < 0 {
		add("$.data.price", ">= 0", num(n), "negative amount")
	}
	eachPolicy(data, func(path string, p map[string]any) {
		for _, k := range []string{"price", "tax", "commission"} {
			if n, ok := p[k].(float64); ok && n < 0 {
				add(path+"."+k, ">= 0", num(n), "negative amount")
			}
		}
	})
}

// currencyCode: data.currency is three upper-case letters.
func currencyCode(data map[string]any, _ caseContext, add report) {
	if c, ok := data["currency"].(string); ok && (len(c) != 3 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		add("$.data.currency", "three upper-case letters (ISO 4217)", c, "not a currency code")
	}
}

// timestampsOrdered: created_at <= updated_at (the booking, every policy, the policyholder).
func timestampsOrdered(data map[string]any, _ caseContext, add report) {
	check := func(path string, m map[string]any) {
		ordered(m, "created_at", "updated_at", path, "updated before it was created", add)
	}
	check("$.data", data)
	eachPolicy(data, check)
	if ph, ok := data["policyholder"].(map[string]any); ok {
		check("$.data.policyholder", ph)
	}
}

// urlsAbsoluteHTTPS: coi.url, coi.pdf, account_url, fnol_link, sign_up_url
// and every pds_url are absolute https URLs (http is allowed when the target
// itself is on loopback).
func urlsAbsoluteHTTPS(data map[string]any, cc caseContext, add report) {
	check := func(path string, v any) {
		s, ok := v.(string)
		if !ok || s == "" {
			return
		}
		u, err := url.Parse(s)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "":
			add(path, "absolute https URL", s, "not an absolute URL")
		case u.Scheme != "https" && (u.Scheme != "http" || !cc.Loopback):
			add(path, "absolute https URL", s, "scheme "+u.Scheme+" is not https")
		}
	}
	if coi, ok := data["coi"].(map[string]any); ok {
		check("$.data.coi.url", coi["url"])
		check("$.data.coi.pdf", coi["pdf"])
	}
	for _, k := range []string{"account_url", "fnol_link", "sign_up_url"} {
		check("$.data."+k, data[k])
	}
	eachPolicy(data, func(path string, p map[string]any) { check(path+".pds_url", p["pds_url"]) })
}

// eachPolicy calls f with the path and content of every policy of data.
func eachPolicy(data map[string]any, f func(path string, p map[string]any)) {
	policies, _ := data["policies"].([]any)
	for i, p := range policies {
		pm, _ := p.(map[string]any)
		f(fmt.Sprintf("$.data.policies[%d]", i), pm)
	}
}

// ordered reports at path, with reason, m[a] after m[b]; nothing when either
// is absent, not a string or unparsable (the format check reports those).
func ordered(m map[string]any, a, b, path, reason string, add report) {
	sa, _ := m[a].(string) // "" does not parse
	sb, _ := m[b].(string)
	ta, errA := time.Parse(time.RFC3339Nano, sa)
	tb, errB := time.Parse(time.RFC3339Nano, sb)
	if errA == nil && errB == nil && ta.After(tb) {
		add(path, a+" <= "+b, a+"="+sa+" "+b+"="+sb, reason)
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
