"""Writes synthetic_transcripts.jsonl and synthetic_labels.json (run from anywhere).

Hand-written calls with varied, realistic wording and hard negatives; each label is a QA lead's
judgement of what the agent did, by the item meanings in scorecards/aidet.yaml, NOT by what the
detector does. Times are given for every turn (start in s; a turn lasts its words at 2.6 words/s
unless given), so the greeting/introduction/closing windows and holds are meaningful.
A hold is a 20 s+ stretch without agent speech while the customer is mostly quiet.
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
ITEMS = ("greeting", "introduce_name", "introduce_company", "duration", "explanation", "thank_you",
         "hold_announced", "hold_within_standard", "hold_thanked")
NO_HOLD = {"hold_announced": "na", "hold_within_standard": "na", "hold_thanked": "na"}

CALLS: list[dict] = []


def call(call_id: str, description: str, labels: dict, turns: list[tuple], agent_id: str = "unknown") -> None:
    labels = {**NO_HOLD, **labels}
    labels = {k: labels[k] for k in ITEMS if k in labels} | {k: v for k, v in labels.items() if k not in ITEMS}
    assert set(labels) == set(ITEMS), (call_id, set(ITEMS) ^ set(labels))
    out, last_agent_end = [], 0.0
    for turn in turns:
        speaker, start, text = turn[:3]
        duration = turn[3] if len(turn) > 3 else round(len(text.split()) / 2.6, 2)
        out.append({"speaker": speaker, "text": text, "start_ms": int(round(start * 1000)),
                    "duration_ms": int(round(duration * 1000))})
    starts = [t["start_ms"] for t in out]
    assert starts == sorted(starts), call_id
    CALLS.append({"id": call_id, "language": "en", "agent_id": agent_id, "description": description,
                  "source": "callqa synthetic, hand-written", "licence": "Apache-2.0 (callqa)",
                  "turns": out, "labels": labels})


P, F = "pass", "fail"
ALL_AIDET_PASS = dict(greeting=P, introduce_name=P, introduce_company=P, duration=P, explanation=P, thank_you=P)

call("s01_model_mobile", "Model call: intro, SIM replacement, announced 40 s hold thanked with 'bearing with me'.",
     {**ALL_AIDET_PASS, "hold_announced": P, "hold_within_standard": P, "hold_thanked": P}, [
    ("agent", 1.5, "Good afternoon, you've reached Brightline Mobile, I'm Kwame. What can I do for you today?"),
    ("customer", 7.0, "Hiya, my phone says no SIM card all of a sudden and I can't make calls."),
    ("agent", 12.5, "Oh no, that's annoying. Can I take the mobile number on the account?"),
    ("customer", 17.0, "Yeah it's oh seven seven nine three, four four one, two two eight."),
    ("agent", 23.0, "Lovely. Can you hold for me while I run a check on the line? Won't be long."),
    ("agent", 64.0, "Thanks so much for bearing with me. So the SIM itself has failed, the network side looks fine."),
    ("customer", 70.5, "Right, so what do I do?"),
    ("agent", 73.0, "I'm going to send a new SIM out to you today, first class, and it should arrive in three to five working days."),
    ("customer", 81.5, "Okay, and do I have to do anything when it comes?"),
    ("agent", 85.0, "Just pop it in and restart the phone, your number moves across automatically."),
    ("customer", 91.0, "Brilliant, thank you."),
    ("agent", 93.0, "Thanks for being with Brightline, have a lovely evening."),
], agent_id="syn-a01")

call("s02_customer_thanks_agent_doesnt", "Customer gives their name and thanks; the agent never names themselves and never thanks.",
     dict(greeting=P, introduce_name=F, introduce_company=P, duration=P, explanation=P, thank_you=F), [
    ("agent", 2.0, "Hi there, Westfield Water, how can I help?"),
    ("customer", 5.5, "Hello, my name is Gloria Mendes, thank you for picking up. There's no water coming out of my kitchen tap."),
    ("agent", 13.0, "Okay. What's the postcode there?"),
    ("customer", 16.0, "It's W S nine, four B T."),
    ("agent", 20.0, "There's no works in your area, so it'll be something on your side. I've booked an engineer for tomorrow morning."),
    ("customer", 27.5, "Thank you. How long will they be there?"),
    ("agent", 30.5, "The visit itself takes about an hour."),
    ("customer", 33.5, "Okay that's great, thank you so much, bye bye."),
    ("agent", 37.0, "Okay, all sorted. Bye now."),
], agent_id="syn-a02")

call("s03_greeting_after_two_minutes", "Agent opens with 'Account number?' and greets and introduces only after two minutes.",
     dict(greeting=F, introduce_name=F, introduce_company=F, duration=P, explanation=P, thank_you=P), [
    ("agent", 1.0, "Account number?"),
    ("customer", 3.0, "Um, hang on, it's on the letter somewhere. H I four four two zero nine."),
    ("agent", 10.0, "And the date of birth on the policy?"),
    ("customer", 13.0, "Fourteenth of March, nineteen eighty."),
    ("agent", 17.0, "What's happened?"),
    ("customer", 19.0, "Somebody reversed into my car in a car park, there's a big dent in the back door and the light is smashed. "
                       "They gave me their details but now they're not answering their phone, and I need the car for work.", 16.0),
    ("agent", 37.0, "Did you take photos?"),
    ("customer", 39.0, "Yes, of both cars and their number plate."),
    ("agent", 43.0, "Was anyone hurt?"),
    ("customer", 45.0, "No, nobody was in the car."),
    ("agent", 48.0, "Where did it happen and what time?"),
    ("customer", 51.0, "At the Tesco car park on Mill Road, about half past five yesterday evening. I was loading the shopping "
                       "and he just came straight back out of the space opposite without looking.", 14.0),
    ("agent", 67.0, "Do you have their registration?"),
    ("customer", 70.0, "Yes, it's L D seventy one, K P X."),
    ("agent", 75.0, "Any witnesses?"),
    ("customer", 77.0, "A lady saw it, she gave me her number too, but I don't know if she'd want to be involved, she seemed in a rush. "
                       "I can ask her though if you need me to, I've still got the note she wrote it on in my bag somewhere.", 18.0),
    ("agent", 97.0, "Okay. And is the car driveable?"),
    ("customer", 100.0, "It drives fine, it's just the light and the door, but I don't want to get stopped with a broken light. "
                        "My husband said I shouldn't drive it until it's fixed.", 12.0),
    ("agent", 114.0, "Right."),
    ("customer", 116.0, "So what happens now?"),
    ("agent", 125.0, "Oh sorry, good morning by the way, I'm Lena from Harbour Insurance. You'll receive a claim form by email this morning."),
    ("customer", 133.0, "Okay. Is it a long form?"),
    ("agent", 136.0, "It takes about ten minutes to fill in. Attach the photos and the other driver's details."),
    ("customer", 142.0, "Okay, will do."),
    ("agent", 144.5, "Thank you for calling Harbour Insurance, take care."),
], agent_id="syn-a03")

call("s04_cant_tell_how_long", "Agent says they can't tell how long the delivery will take; no duration given.",
     dict(greeting=P, introduce_name=P, introduce_company=P, duration=F, explanation=P, thank_you=P), [
    ("agent", 0.8, "Morning! Thanks for calling Pinecrest Furniture, Abdul speaking."),
    ("customer", 5.0, "Hi Abdul, I ordered a sofa six weeks ago and it still hasn't turned up."),
    ("agent", 10.5, "Sorry about that. Can I grab the order number?"),
    ("customer", 14.0, "P F three three eight one."),
    ("agent", 17.5, "One moment."),
    ("agent", 29.0, "Okay, it's stuck at the warehouse waiting for the fabric. Honestly, I can't tell how long it will take, it depends on the supplier."),
    ("customer", 38.0, "That's not great."),
    ("agent", 40.0, "I know. I'll raise a ticket with the warehouse manager and they'll call you back with a date."),
    ("customer", 47.0, "Okay, fine."),
    ("agent", 49.0, "Thanks for your understanding, and sorry again. Bye for now."),
], agent_id="syn-a04")

call("s05_one_moment_hold_not_thanked", "'One moment please' then a 35 s hold; back without thanks; no duration anywhere.",
     dict(greeting=P, introduce_name=P, introduce_company=P, duration=F, explanation=P, thank_you=P,
          hold_announced=P, hold_within_standard=P, hold_thanked=F), [
    ("agent", 1.2, "Hello and welcome to Crestview Dental, my name's Tomasz, how can I help?"),
    ("customer", 6.5, "Hi, I need to move my check-up next week, I'm away."),
    ("agent", 11.0, "No problem, what's your surname and date of birth?"),
    ("customer", 14.5, "Novak, second of June eighty-eight."),
    ("agent", 18.5, "One moment please."),
    ("agent", 55.0, "Okay, I found you. We have the ninth at ten or the twelfth at three."),
    ("customer", 61.0, "The ninth at ten please."),
    ("agent", 63.5, "I'll move your appointment to the ninth at ten, and you'll get a text reminder the day before."),
    ("customer", 70.0, "Perfect."),
    ("agent", 71.5, "Thanks, bye."),
], agent_id="syn-a05")

call("s06_thanks_for_holding_at_end", "The only thanks in the last 30 s is 'thanks for holding' after a hold right before the end.",
     dict(greeting=P, introduce_name=P, introduce_company=P, duration=P, explanation=P, thank_you=F,
          hold_announced=P, hold_within_standard=P, hold_thanked=P), [
    ("agent", 1.0, "Hello, Orbit Broadband support, this is Chiara."),
    ("customer", 4.0, "Hi, my internet is really slow in the evenings."),
    ("agent", 8.0, "Okay, I'll apply a line reset and a speed boost, it kicks in within 24 hours."),
    ("customer", 14.0, "Okay, that sounds good."),
    ("agent", 16.5, "Let me just check one more thing on the router."),
    ("agent", 48.0, "Thanks for holding, that's all done then, bye."),
], agent_id="syn-a06")

call("s07_company_only_no_name", "Agent names the bank but never their own name.",
     dict(ALL_AIDET_PASS, introduce_name=F), [
    ("agent", 1.0, "Good morning, thank you for calling Redwood Credit Union, how may I help you?"),
    ("customer", 6.0, "I think I lost my debit card on the bus."),
    ("agent", 9.5, "I'm sorry to hear that. Can you confirm the last four digits of the card?"),
    ("customer", 14.0, "Five five zero one."),
    ("agent", 16.5, "Thanks. I'm going to cancel the old card and order a new one for you."),
    ("customer", 21.5, "How long will it take?"),
    ("agent", 23.5, "Cards usually arrive in seven to ten days."),
    ("customer", 27.0, "Okay."),
    ("agent", 28.5, "Is there anything else?"),
    ("customer", 30.0, "No, that's it."),
    ("agent", 31.5, "Thank you for calling, have a great day."),
], agent_id="syn-a01")

call("s08_no_closing_thanks", "Full introduction, but the agent ends with 'that's everything, bye' and no thanks.",
     dict(ALL_AIDET_PASS, thank_you=F), [
    ("agent", 1.0, "Thanks for calling Greenleaf Energy, you're talking to Sam, how can I help?"),
    ("customer", 6.0, "Hi Sam, I want to switch my payment date to the fifteenth."),
    ("agent", 10.0, "Sure, can I take your account number?"),
    ("customer", 13.0, "It's nine one two, three four, five."),
    ("agent", 17.0, "Got it. The change will be processed by Friday, and you'll get a confirmation text once it's done."),
    ("customer", 24.0, "Great. Will this month's payment still come out?"),
    ("agent", 28.0, "Yes, this month stays the same, the new date starts next month."),
    ("customer", 33.0, "Okay, brilliant. Thanks."),
    ("agent", 35.5, "Anything else I can help with?"),
    ("customer", 38.0, "No, that's all."),
    ("agent", 40.0, "Alright, that's everything. Bye."),
], agent_id="syn-a02")

call("s09_lowercase_asr", "Lower-case, unpunctuated ASR-style text; every AIDET element present.",
     ALL_AIDET_PASS, [
    ("agent", 0.9, "hi thank you for calling sunnyvale pharmacy my name is ravi how can i help"),
    ("customer", 5.5, "hi yeah i dropped off a prescription this morning is it ready"),
    ("agent", 10.0, "let me see whats the name"),
    ("customer", 12.5, "its patel p a t e l"),
    ("agent", 16.0, "okay it's not ready yet your prescription will be ready in about two hours"),
    ("customer", 21.0, "okay"),
    ("agent", 22.0, "i'll text you as soon as it's ready to collect"),
    ("customer", 25.5, "great thanks"),
    ("agent", 27.5, "thank you bye"),
], agent_id="syn-a03")

call("s10_asr_slips", "ASR slips: 'thank you for colling', 'to or three days'; the agent did greet, introduce and thank.",
     ALL_AIDET_PASS, [
    ("agent", 1.0, "Thank you for colling Meridian Gas and Power, you're speaking with Ana."),
    ("customer", 5.5, "Hi, I need someone to read my meter, the bills are all estimates."),
    ("agent", 10.5, "Okay, I'll book the meter reading for you. The reader comes out in to or three days."),
    ("customer", 17.0, "Do I need to be home?"),
    ("agent", 19.5, "Only if the meter is inside."),
    ("customer", 22.0, "It's outside, great. Thanks."),
    ("agent", 24.5, "Thank you for colling, bye."),
], agent_id="syn-a04")

call("s11_numbers_words_digits", "Durations in digits and words; a 25 s hold announced ('bear with me a sec') and apologised for.",
     {**ALL_AIDET_PASS, "hold_announced": P, "hold_within_standard": P, "hold_thanked": P}, [
    ("agent", 1.0, "Hello, Quayside Bank, Priyanka here."),
    ("customer", 4.5, "Hi, I sent money abroad yesterday and it hasn't arrived."),
    ("agent", 9.0, "Bear with me a sec while I find the payment."),
    ("agent", 37.0, "Sorry about the wait. International payments take 3-5 business days, so it's still in progress."),
    ("customer", 44.0, "Oh okay. Can I get a reference for the other bank?"),
    ("agent", 48.0, "Yes, I'll email you the SWIFT reference, you should have it within forty eight hours at the latest, usually sooner."),
    ("customer", 56.0, "Okay, thank you."),
    ("agent", 58.0, "Thank you, have a good day."),
], agent_id="syn-a05")

call("s12_long_unannounced_hold", "A 75 s hold with no announcement and no thanks or apology afterwards.",
     {**ALL_AIDET_PASS, "hold_announced": F, "hold_within_standard": F, "hold_thanked": F}, [
    ("agent", 1.0, "Hi, you're through to Atlas Electronics returns, my name is Ben."),
    ("customer", 5.0, "Hello, I returned headphones two weeks ago and no refund yet."),
    ("agent", 9.5, "Okay. What's the order number?"),
    ("customer", 12.5, "A E four four seven six."),
    ("agent", 16.0, "Okay."),
    ("agent", 92.0, "Right, so the warehouse did receive them."),
    ("customer", 95.0, "So where's my money?"),
    ("agent", 97.0, "I'll process the refund today. It takes up to ten working days to show on your card."),
    ("customer", 103.5, "Okay, thanks."),
    ("agent", 105.5, "Thanks for calling, bye."),
], agent_id="syn-a06")

call("s13_two_holds_second_not_thanked", "Two announced holds (30 s, 45 s); only the first is thanked for.",
     {**ALL_AIDET_PASS, "hold_announced": P, "hold_within_standard": P, "hold_thanked": F}, [
    ("agent", 1.0, "Good evening, Solace Travel, this is Hannah speaking."),
    ("customer", 4.5, "Hi, I need to change the names on a booking, my sister can't come."),
    ("agent", 9.0, "Can I pop you on hold for a moment while I open the booking?"),
    ("customer", 13.0, "Sure."),
    ("agent", 44.0, "Thanks for your patience. I can see it. A name change is allowed on this fare."),
    ("customer", 50.0, "Great. Is there a fee?"),
    ("agent", 52.0, "Give me a sec while I check with my supervisor."),
    ("agent", 100.0, "Okay so my supervisor says it's a twenty-five pound fee and I'll send the new tickets by email within the hour."),
    ("customer", 108.0, "That's fine."),
    ("agent", 110.0, "Thank you for booking with Solace, enjoy the trip."),
], agent_id="syn-a01")

call("s14_ninety_second_hold", "A 90 s hold announced and apologised for ('sorry that took so long'): over the standard.",
     {**ALL_AIDET_PASS, "hold_announced": P, "hold_within_standard": F, "hold_thanked": P}, [
    ("agent", 1.0, "Hi, Keystone Motors service desk, my name is Luis, how can I help?"),
    ("customer", 6.0, "Hi, I'm ringing about my car, it went in this morning for a service."),
    ("agent", 11.0, "Sure, let me check with the workshop, can you hold please?"),
    ("agent", 106.0, "Sorry that took so long. The car is ready, we just need to do the paperwork."),
    ("customer", 112.0, "Great. When can I collect it?"),
    ("agent", 114.5, "You can collect it any time after four, the paperwork takes about twenty minutes."),
    ("customer", 120.0, "Okay, see you then."),
    ("agent", 122.0, "Thanks a lot, see you later."),
], agent_id="syn-a02")

call("s15_customer_says_my_name_is", "Only the customer says 'my name is' and thanks; the agent answers with a department and closes with 'no worries'.",
     dict(greeting=P, introduce_name=F, introduce_company=F, duration=P, explanation=P, thank_you=F), [
    ("agent", 1.0, "Hello, IT service desk, how can I help?"),
    ("customer", 4.0, "Hi, my name is Oliver Grant, thank you for picking up so quickly. I'm locked out of my laptop."),
    ("agent", 10.5, "Okay, what's your employee number?"),
    ("customer", 13.5, "Four zero eight one two."),
    ("agent", 16.5, "I've reset your password, you'll get a text with a temporary one in a few minutes."),
    ("customer", 22.0, "Thanks a lot."),
    ("agent", 24.0, "No worries, bye."),
], agent_id="syn-a03")

call("s16_name_too_late", "Greets with 'yeah hi', names the hotel early, but gives own name only after 75 s.",
     dict(greeting=P, introduce_name=F, introduce_company=P, duration=F, explanation=P, thank_you=P), [
    ("agent", 1.5, "Yeah, hi."),
    ("customer", 3.0, "Hello? Is this the hotel?"),
    ("agent", 5.0, "Yes, this is the Lakeside Hotel reservations line."),
    ("customer", 8.5, "Great. I have a booking for next weekend under Morgan and I'd like a double room instead of a twin. "
                      "We're coming for our anniversary and I only realised today the booking says twin.", 12.0),
    ("agent", 22.0, "Okay, let me see."),
    ("customer", 24.0, "It's booking number L H nine nine two."),
    ("agent", 29.0, "Found it. Friday and Saturday night, two adults."),
    ("customer", 33.0, "That's right."),
    ("agent", 35.0, "We do have a double free. The price is twenty pounds more per night."),
    ("customer", 40.0, "That's fine. And what time is check-in?"),
    ("agent", 43.0, "Check-in is from three pm."),
    ("customer", 46.0, "Lovely. Could we have a late checkout on the Sunday as well?"),
    ("agent", 50.0, "I'll note the request, but it depends on the day."),
    ("customer", 54.0, "Okay, fair enough. Do you do anything for anniversaries?"),
    ("agent", 58.0, "We can put a bottle of prosecco in the room for twenty five pounds."),
    ("customer", 63.0, "Oh, yes please, that would be lovely, add it on."),
    ("agent", 67.0, "Done. I've changed your booking to a double room with the prosecco, and you'll get a new confirmation email."),
    ("customer", 74.0, "Thanks. Who am I speaking to?"),
    ("agent", 76.0, "I'm Jordan, by the way."),
    ("customer", 78.0, "Thanks Jordan."),
    ("agent", 80.0, "Thanks very much for calling, enjoy your stay."),
], agent_id="syn-a04")

call("s17_past_times_not_durations", "Times in the past ('three days ago', 'the last two weeks') and 'give me one second': no duration.",
     dict(ALL_AIDET_PASS, duration=F), [
    ("agent", 1.0, "Good afternoon, Northgate Council, Fatima speaking, how can I help?"),
    ("customer", 6.0, "Hi, my bins haven't been collected."),
    ("agent", 9.0, "Give me one second."),
    ("customer", 11.0, "Sure."),
    ("agent", 14.0, "I see you called about this three days ago as well, and it's been missed for the last two weeks."),
    ("customer", 21.0, "Yes, it's really annoying."),
    ("agent", 23.5, "I'm going to escalate it to the waste team supervisor and they'll contact you directly."),
    ("customer", 29.5, "Thank you."),
    ("agent", 31.0, "Thank you for your call, bye."),
], agent_id="syn-a05")

call("s18_pause_under_twenty_seconds", "A 16 s pause after 'one sec': not a hold, so the hold items do not apply.",
     ALL_AIDET_PASS, [
    ("agent", 1.0, "Hiya, Beacon Books, Tom here."),
    ("customer", 3.5, "Hi, I'm after a copy of The Salt Path."),
    ("agent", 7.0, "One sec."),
    ("agent", 24.0, "Yep, we've got two in stock. I'll put one aside for you under your name."),
    ("customer", 30.0, "Great, my name's Ruth."),
    ("agent", 32.5, "Lovely, we'll hold it for three days."),
    ("customer", 35.0, "Perfect, thanks."),
    ("agent", 36.5, "Thanks Ruth, see you soon."),
], agent_id="syn-a06")

call("s19_customer_talks_in_gap", "40 s without agent words while the customer explains: listening, not a hold.",
     ALL_AIDET_PASS, [
    ("agent", 1.0, "Hello, Linden Vets, you're speaking with Jess."),
    ("customer", 4.0, "Hi, it's about my dog Biscuit. He's been off his food for two days, and this morning he was sick twice, "
                      "and now he's just lying in his bed, he won't even come for a walk, which isn't like him at all. "
                      "He's nine, a spaniel, and he had something similar last year but it cleared up by itself.", 38.0),
    ("agent", 43.0, "Okay, that does sound like he should be seen. I'll book him in with Doctor Hale at two o'clock today."),
    ("customer", 50.0, "Oh thank you. How long will the appointment be?"),
    ("agent", 53.0, "About twenty minutes, bring any sick if you can, in a bag."),
    ("customer", 57.0, "Okay, will do."),
    ("agent", 59.0, "Thanks for calling, give Biscuit a cuddle."),
], agent_id="syn-a01")

call("s20_hold_announced_too_early", "'I'll need to check with billing' said a minute before a 35 s silent hold: not announced; thanked after.",
     {**ALL_AIDET_PASS, "hold_announced": F, "hold_within_standard": P, "hold_thanked": P}, [
    ("agent", 1.0, "Good morning, Fernhill Telecom, my name is Aisha."),
    ("customer", 4.5, "Morning, my bill has an extra charge for international calls I never made."),
    ("agent", 10.0, "Okay, I'll need to check that with billing at some point. First, can I confirm your address?"),
    ("customer", 17.0, "Twelve Oak Lane, Fernhill."),
    ("agent", 20.5, "And the date of birth?"),
    ("customer", 23.0, "First of May, seventy five."),
    ("agent", 26.0, "And have you let anyone else use the phone recently?"),
    ("customer", 30.0, "No, nobody."),
    ("agent", 32.5, "Do you have the bill in front of you?"),
    ("customer", 35.0, "Yes, it's the charge on page two, eighteen pounds forty."),
    ("agent", 40.5, "Okay, I can see it here too."),
    ("customer", 43.5, "I've never called Peru in my life."),
    ("agent", 47.0, "Right."),
    ("agent", 83.0, "Thanks for waiting. Billing confirmed it's an error, I've refunded the eighteen forty to your account."),
    ("customer", 90.0, "Oh great. When will I see it?"),
    ("agent", 92.5, "It'll show on your next bill, in about two weeks."),
    ("customer", 96.0, "Perfect, thank you."),
    ("agent", 98.0, "Thank you, have a nice day."),
], agent_id="syn-a02")

call("s21_patience_closing_no_hold", "No hold; the closing thanks is 'thank you for your patience today'.",
     ALL_AIDET_PASS, [
    ("agent", 1.0, "Hello, Cobalt Software support, Marek speaking, how can I help?"),
    ("customer", 5.0, "Hi, the app keeps crashing when I export a report."),
    ("agent", 9.0, "Okay, I'll walk you through reinstalling it. First, close the app and open settings."),
    ("customer", 15.0, "Okay, done."),
    ("agent", 17.0, "Now choose apps, find Cobalt Reports and press uninstall."),
    ("customer", 22.0, "Done."),
    ("agent", 24.0, "Now download it again from the store, it only takes two minutes."),
    ("customer", 29.0, "Okay, it's installed and the export works now."),
    ("agent", 33.0, "Great. Thank you for your patience today, goodbye."),
], agent_id="syn-a03")

call("s22_information_only", "Agent only answers questions (a balance, opening hours): no duration, no explanation of next steps.",
     dict(ALL_AIDET_PASS, duration=F, explanation=F), [
    ("agent", 1.0, "Good evening, Castle Bank, Marta speaking."),
    ("customer", 4.0, "Hi, can you tell me my balance please, the app is down."),
    ("agent", 8.0, "Of course. Can I have your date of birth and the last three digits of your card?"),
    ("customer", 13.0, "Third of August ninety-one, and four five two."),
    ("agent", 17.0, "Thanks. Your balance is two hundred and forty pounds and twelve pence."),
    ("customer", 22.0, "Okay. And what time does the Kings Road branch open tomorrow?"),
    ("agent", 26.0, "It opens at nine."),
    ("customer", 28.0, "Great."),
    ("agent", 29.5, "Thanks for calling Castle Bank, goodnight."),
], agent_id="syn-a04")

call("s23_hang_tight_appreciate", "Real-world wording: 'hang tight for me', 'appreciate you hanging tight', 'I appreciate you calling in'.",
     {**ALL_AIDET_PASS, "hold_announced": P, "hold_within_standard": P, "hold_thanked": P}, [
    ("agent", 1.0, "Hey, thanks for calling Zephyr Airlines, this is Dev, how can I help you?"),
    ("customer", 5.5, "Hi, my flight was cancelled and I want a refund rather than the rebooking."),
    ("agent", 11.0, "Sure thing. Hang tight for me while I pull up the reservation."),
    ("agent", 41.0, "Appreciate you hanging tight. Okay, I've submitted the refund request to the original card."),
    ("customer", 47.5, "How long does that take?"),
    ("agent", 50.0, "The refund shows up in 5 to 7 business days."),
    ("customer", 54.0, "Okay, great."),
    ("agent", 55.5, "I appreciate you calling in, have a good one."),
], agent_id="syn-a05")

call("s24_customer_care_customer_names_company", "Agent says only 'this is customer care'; the customer names herself and her own company.",
     dict(greeting=P, introduce_name=F, introduce_company=F, duration=P, explanation=P, thank_you=P), [
    ("agent", 1.0, "Hello, this is customer care, how can I help you?"),
    ("customer", 4.5, "Hi, my name is Janet, I'm calling from Acme Limited about an invoice we never received."),
    ("agent", 11.0, "Right, can you give me the invoice number?"),
    ("customer", 14.0, "I N V two two zero nine."),
    ("agent", 17.5, "Got it. I'll email you a copy of the invoice now, you should have it within the hour."),
    ("customer", 24.0, "Perfect."),
    ("agent", 25.5, "Thanks Janet, bye."),
], agent_id="syn-a06")

call("s25_gday_mick_here", "Australian phrasing: 'G'day', 'Mick here', closing 'ta, cheers mate'.",
     ALL_AIDET_PASS, [
    ("agent", 1.0, "G'day, Kookaburra Couriers, Mick here."),
    ("customer", 3.5, "Hi Mick, I missed a delivery yesterday, there's a card through the door."),
    ("agent", 8.5, "No worries, what's the tracking number on the card?"),
    ("customer", 12.0, "K C one one eight four."),
    ("agent", 15.5, "Yep. I'll re-book the delivery for you, the parcel should be with you in two days."),
    ("customer", 21.5, "Great, thanks."),
    ("agent", 23.5, "Ta, cheers mate."),
], agent_id="syn-a01")


def main() -> None:
    with open(HERE / "synthetic_transcripts.jsonl", "w", encoding="utf-8") as out:
        for c in CALLS:
            out.write(json.dumps({k: v for k, v in c.items() if k != "labels"}, ensure_ascii=False) + "\n")
    labels = [{"call_id": c["id"], "description": c["description"], "expected_items": c["labels"]} for c in CALLS]
    (HERE / "synthetic_labels.json").write_text(json.dumps(labels, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(CALLS)} synthetic calls written to {HERE}")


if __name__ == "__main__":
    main()
