package sandbox

import (
	"bytes"
	"encoding/json"
	"time"
)

// product is one insurance product the sandbox books. static is the pre-rendered,
// request-independent part of a policy object (from "policy_type" to "pds_url", without
// braces).
type product struct {
	static             []byte
	minCents, maxCents int64
}

type policyContent struct {
	Title             string   `json:"title"`
	Header            string   `json:"header"`
	Description       string   `json:"description"`
	OptoutMsg         string   `json:"optout_msg"`
	Inclusions        []string `json:"inclusions"`
	Exclusions        []string `json:"exclusions"`
	Disclaimer        string   `json:"disclaimer"`
	DisclaimerHTML    string   `json:"disclaimer_html"`
	PaymentDisclaimer string   `json:"payment_disclaimer"`
	InPathDisclaimer  string   `json:"in_path_disclaimer"`
	ExtraContent      []any    `json:"extra_content"`
}

type productStatic struct {
	PolicyType      string        `json:"policy_type"`
	PolicyCode      string        `json:"policy_code"`
	PolicyVersion   string        `json:"policy_version"`
	PolicyContent   policyContent `json:"policy_content"`
	ClaimSelectorID string        `json:"claim_selector_id"`
	PDSURL          string        `json:"pds_url"`
}

const (
	disclaimer = "This insurance is arranged by Cover Genius Pty Ltd (ABN 18 614 393 629, AFSL 486711) " +
		"as agent of the insurer. Consider the Product Disclosure Statement before deciding to buy."
	disclaimerHTML = `<p>This insurance is arranged by Cover Genius Pty Ltd (ABN 18 614 393 629, AFSL 486711) ` +
		`as agent of the insurer. Consider the <a href="https://www.xcover.com/en-au/pds" target="_blank">` +
		`Product Disclosure Statement</a> before deciding to buy.</p>`
)

// products pre-renders the two products the sandbox sells.
func products() [2]product {
	defs := [2]struct {
		p        productStatic
		min, max int64
	}{
		{productStatic{
			PolicyType:    "event_ticket_protection",
			PolicyCode:    "ETP-AU-XONE",
			PolicyVersion: "3f2b8c1e-6d4a-4e7b-9a15-0c8d2e6f4b71",
			PolicyContent: policyContent{
				Title:       "Ticket Protection",
				Header:      "Protect your tickets",
				Description: "Get a full refund of your tickets if you cannot attend the event because of illness, injury, public transport failure and more.",
				OptoutMsg:   "I don't want to protect my tickets.",
				Inclusions: []string{
					"Illness or injury, including COVID-19",
					"Public transport failure or a road accident on the way",
					"Severe weather or natural disaster",
					"Emergency at home or at work",
				},
				Exclusions: []string{
					"Change of mind",
					"Pre-existing medical conditions known when booking",
					"Event cancelled or rescheduled by the organiser",
				},
				Disclaimer:        disclaimer,
				DisclaimerHTML:    disclaimerHTML,
				PaymentDisclaimer: "Ticket Protection is charged together with your tickets.",
				InPathDisclaimer:  "By adding Ticket Protection you agree to the Product Disclosure Statement.",
				ExtraContent:      []any{},
			},
			ClaimSelectorID: "ticket-protection",
			PDSURL:          "https://www.xcover.com/en-au/pds/ETP-AU-XONE",
		}, 495, 4995},
		{productStatic{
			PolicyType:    "event_weather_protection",
			PolicyCode:    "EWP-AU-XONE",
			PolicyVersion: "8a9d0e47-21c3-4f5b-b6e8-5d7c9f1a2e30",
			PolicyContent: policyContent{
				Title:       "Weather Protection",
				Header:      "Rain on the day? Get your money back",
				Description: "Receive a payout if heavy rain falls at the venue during the event.",
				OptoutMsg:   "I don't want Weather Protection.",
				Inclusions: []string{
					"Automatic payout when rainfall exceeds the threshold",
					"No claim form needed",
				},
				Exclusions: []string{
					"Indoor venues",
					"Rain outside the event hours",
				},
				Disclaimer:        disclaimer,
				DisclaimerHTML:    disclaimerHTML,
				PaymentDisclaimer: "Weather Protection is charged together with your tickets.",
				InPathDisclaimer:  "By adding Weather Protection you agree to the Product Disclosure Statement.",
				ExtraContent:      []any{},
			},
			ClaimSelectorID: "weather-protection",
			PDSURL:          "https://www.xcover.com/en-au/pds/EWP-AU-XONE",
		}, 195, 1995},
	}
	var out [2]product
	for i, d := range defs {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d.p); err != nil {
			panic("sandbox: render product: " + err.Error()) // static data: cannot fail
		}
		b := bytes.TrimSpace(buf.Bytes())
		out[i] = product{static: b[1 : len(b)-1], minCents: d.min, maxCents: d.max}
	}
	return out
}

const (
	badLayout = "2006-01-02 15:04:05" // bad-date-time drift: no T, no zone
	tzOffset  = "+10:00"
)

// policyValues are the generated numbers and dates of one policy.
type policyValues struct {
	cents int64
	prod  *product
}

// appendBooking renders the 200 body for a confirm. n is the request sequence number
// (booking id and generated values derive from it and the seed).
func (s *Server) appendBooking(b []byte, n uint64, offerID string, req *confirmRequest, now time.Time) []byte {
	d := s.cfg.drift
	br := newRNG(s.seed, n, saltBooking)

	var stampBuf [40]byte
	stamp := appendStamp(stampBuf[:0], now)
	local := now.In(s.tz)
	var startBuf, endBuf, eventBuf [32]byte
	ly, lm, ld := local.Date()
	event := time.Date(ly, lm, ld+7+br.intn(120), 19, 30, 0, 0, s.tz)
	start := appendOffsetTime(startBuf[:0], local)
	end := appendOffsetTime(endBuf[:0], event.Add(4*time.Hour+29*time.Minute+59*time.Second)) // 23:59:59
	eventStamp := appendOffsetTime(eventBuf[:0], event)

	var idBuf [16]byte
	id := appendBookingID(idBuf[:0], permute50(n, s.idKey))

	npol := 1 + br.intn(2)
	if req.nQuotes > 1 {
		npol = 2
	}
	var pols [2]policyValues
	var total int64
	for i := 0; i < npol; i++ {
		p := &s.products[i]
		pols[i] = policyValues{cents: p.minCents + int64(br.intn(int(p.maxCents-p.minCents+1))), prod: p}
		total += pols[i].cents
	}

	if d.has(driftDataAsArray) {
		b = append(b, `{"data":[{"id":"`...)
	} else {
		b = append(b, `{"data":{"id":"`...)
	}
	b = append(b, id...)
	b = append(b, `","offer_id":"`...)
	if d.has(driftOfferIDNotEchoed) {
		b = appendUUID(b, &br)
	} else {
		b = append(b, offerID...) // validated UUID: nothing to escape
	}
	b = append(b, `","provider_reference":"CG`...)
	b = append(b, id[:5]...)
	b = append(b, id[6:11]...)
	b = append(b, `","language":"en","provider_customer_id":null,"status":"CONFIRMED","currency":"AUD","price":`...)
	if d.has(driftPriceAsString) {
		b = append(b, '"')
		b = appendCents(b, total)
		b = append(b, '"')
	} else {
		b = appendCents(b, total)
	}
	b = append(b, `,"security_token":"`...)
	b = appendSecurityToken(b, &br)
	b = append(b, `","created_at":"`...)
	if d.has(driftBadDateTime) {
		b = now.UTC().AppendFormat(b, badLayout)
	} else {
		b = append(b, stamp...)
	}
	b = append(b, `","updated_at":"`...)
	b = append(b, stamp...)
	b = append(b, `","is_instant_booking":true,"payment_status":null,"policies":`...)
	if !d.has(driftPoliciesAsObject) {
		b = append(b, '[')
	}
	for i := 0; i < npol; i++ {
		if d.has(driftPoliciesAsObject) && i > 0 {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		c := pols[i].cents
		b = append(b, `{"status":"CONFIRMED","policy_start_date":"`...)
		b = append(b, start...)
		b = append(b, `","policy_end_date":"`...)
		b = append(b, end...)
		b = append(b, `","price":`...)
		b = appendCents(b, c)
		b = append(b, `,"tax":`...)
		b = appendCents(b, (c+5)/11)
		b = append(b, `,"commission":`...)
		b = appendCents(b, (c+2)/4)
		b = append(b, `,"cover_amount":null,`...)
		b = append(b, pols[i].prod.static...)
		b = append(b, `,"extra_fields":{"seller_entity":"Cover Genius Pty Ltd","event_datetime":"`...)
		b = append(b, eventStamp...)
		b = append(b, `","event_cost":null,"retail_price":`...)
		b = appendCents(b, c)
		b = append(b, `,"uw_fee":`...)
		b = appendCents(b, c*45/100)
		b = append(b, `,"reinsurer_fee":`...)
		b = appendCents(b, c*5/100)
		b = append(b, `,"partner_commission":`...)
		b = appendCents(b, (c+2)/4)
		b = append(b, `,"coverage_group":"EVENTS","cg_booking_fee":`...)
		b = appendCents(b, c/10)
		b = append(b, `},"confirmed_at":"`...)
		b = append(b, stamp...)
		b = append(b, `","cancelled_at":null,"created_at":"`...)
		b = append(b, stamp...)
		b = append(b, `","updated_at":"`...)
		b = append(b, stamp...)
		b = append(b, `","policy_start_date_tz_offset":"`+tzOffset+`","policy_end_date_tz_offset":"`+tzOffset+`","parent_id":null,"id":"`...)
		b = appendUUID(b, &br)
		b = append(b, `"}`...)
	}
	if !d.has(driftPoliciesAsObject) {
		b = append(b, ']')
	}

	p := &req.holder
	b = append(b, `,"policyholder":{"first_name":`...)
	b = appendJSONBytes(b, p.FirstName)
	b = append(b, `,"last_name":`...)
	b = appendJSONBytes(b, p.LastName)
	b = append(b, `,"email":`...)
	if d.has(driftBadEmail) {
		b = appendJSONBytes(b, badEmail(p.Email))
	} else {
		b = appendJSONBytes(b, p.Email)
	}
	b = append(b, `,"phone":`...)
	b = appendJSONBytes(b, p.Phone)
	b = append(b, `,"country":`...)
	b = appendJSONBytes(b, p.Country)
	b = append(b, `,"birth_date":null,"address1":`...)
	b = appendJSONBytes(b, p.Address1)
	b = append(b, `,"address2":null,"city":`...)
	b = appendJSONBytes(b, p.City)
	b = append(b, `,"region":`...)
	b = appendJSONBytes(b, p.Region)
	b = append(b, `,"postcode":`...)
	b = appendJSONBytes(b, p.Postcode)
	b = append(b, `,"created_at":"`...)
	b = append(b, stamp...)
	b = append(b, `","updated_at":"`...)
	b = append(b, stamp...)
	b = append(b, `","id":"`...)
	b = appendUUID(b, &br)
	b = append(b, `"},"quote":{"uuid":`...)
	b = appendJSONBytes(b, req.quoteID)
	if d.has(driftBadURI) {
		b = append(b, `},"coi":{"url":"www.xcover.com/en-au/coi/`...)
	} else {
		b = append(b, `},"coi":{"url":"https://www.xcover.com/en-au/coi/`...)
	}
	b = append(b, id...)
	b = append(b, `","pdf":"https://www.xcover.com/en-au/coi/`...)
	b = append(b, id...)
	b = append(b, `.pdf"},"account_url":"https://www.xcover.com/en-au/account","fnol_link":"https://claims.xcover.com/en-au/new?booking=`...)
	b = append(b, id...)
	b = append(b, `","sign_up_url":"https://www.xcover.com/en-au/sign-up?booking=`...)
	b = append(b, id...)
	b = append(b, '"')
	if d.has(driftUndocumentedField) {
		b = append(b, `,"surprise_field":"not in the document"`...)
	}
	if d.has(driftDataAsArray) {
		return append(b, `}]}`...)
	}
	return append(b, `}}`...)
}

// badEmail turns a valid address into one that fails the email format (@ becomes " at ").
func badEmail(e []byte) []byte {
	at := bytes.LastIndexByte(e, '@')
	if at < 0 {
		return append(e[:len(e):len(e)], " at example"...)
	}
	out := make([]byte, 0, len(e)+3)
	out = append(out, e[:at]...)
	out = append(out, " at "...)
	return append(out, e[at+1:]...)
}
