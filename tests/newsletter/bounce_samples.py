"""Returned messages as real servers write them, for the bounce and complaint tests.

Written from RFC 3464 (DSN), RFC 3463 (status codes), RFC 5965 (ARF) and the formats
the servers document and send: Postfix's bounce(8), Sendmail, Exim 4 (with and without
DSN), qmail's qmail-send, Microsoft 365 / Exchange Online NDRs, Gmail and a Yahoo-style
feedback loop. `verp` is the envelope sender of the copy (the address the bounce is sent
to), `rcpt` the subscriber, `original` the headers of the copy as we sent it.
"""

import uuid


def _unique():
    return uuid.uuid4().hex[:12]


def _crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def postfix(verp, rcpt, original, *, status="5.1.1", action="failed", diagnostic=None):
    diagnostic = diagnostic or (
        f"smtp; 550 {status} <{rcpt}>: Recipient address rejected: User unknown in virtual "
        "mailbox table"
    )
    return _crlf(f"""Return-Path: <>
Delivered-To: {verp}
Received: by mx.news.example.com (Postfix) id 4XyZ1k2mQzz9sWJ; Mon, 30 Nov 2026 09:12:03 +0000 (UTC)
Date: Mon, 30 Nov 2026 09:12:03 +0000 (UTC)
From: MAILER-DAEMON@mx.news.example.com (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {verp}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="4XyZ1k2mQzz9sWJ.1764493923/mx.news.example.com"
Content-Transfer-Encoding: 8bit
Message-Id: <{_unique()}.20261130091203.4XyZ1k2mQzz9sWJ@mx.news.example.com>

This is a MIME-encapsulated message.

--4XyZ1k2mQzz9sWJ.1764493923/mx.news.example.com
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.news.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{rcpt}>: host mail.example.org[192.0.2.25] said: 550 {status}
    <{rcpt}>: Recipient address rejected (in reply to RCPT TO command)

--4XyZ1k2mQzz9sWJ.1764493923/mx.news.example.com
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.news.example.com
X-Postfix-Queue-ID: 4XyZ1k2mQzz9sWJ
X-Postfix-Sender: rfc822; {verp}
Arrival-Date: Mon, 30 Nov 2026 09:12:01 +0000 (UTC)

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: {action}
Status: {status}
Remote-MTA: dns; mail.example.org
Diagnostic-Code: {diagnostic}

--4XyZ1k2mQzz9sWJ.1764493923/mx.news.example.com
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

{original}
--4XyZ1k2mQzz9sWJ.1764493923/mx.news.example.com--
""")


def sendmail(verp, rcpt, original):
    return _crlf(f"""Return-Path: <>
Received: from localhost (localhost) by relay.news.example.com (8.17.2/8.17.2) id 5AU9C3xQ012345;
	Mon, 30 Nov 2026 09:12:03 GMT
Date: Mon, 30 Nov 2026 09:12:03 GMT
From: Mail Delivery Subsystem <MAILER-DAEMON@relay.news.example.com>
Message-Id: <{_unique()}.202611300912.5AU9C3xQ012345@relay.news.example.com>
To: <{verp}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="5AU9C3xQ012345.1764493923/relay.news.example.com"
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)

This is a MIME-encapsulated message

--5AU9C3xQ012345.1764493923/relay.news.example.com

The original message was received at Mon, 30 Nov 2026 09:12:01 GMT
from localhost [127.0.0.1]

   ----- The following addresses had permanent fatal errors -----
<{rcpt}>
    (reason: 550 5.1.1 <{rcpt}>... User unknown)

   ----- Transcript of session follows -----
... while talking to mail.example.org.:
>>> RCPT To:<{rcpt}>
<<< 550 5.1.1 <{rcpt}>... User unknown
550 5.1.1 <{rcpt}>... User unknown

--5AU9C3xQ012345.1764493923/relay.news.example.com
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.news.example.com
Received-From-MTA: DNS; localhost
Arrival-Date: Mon, 30 Nov 2026 09:12:01 GMT

Final-Recipient: RFC822; {rcpt}
Action: failed
Status: 5.1.1
Remote-MTA: DNS; mail.example.org
Diagnostic-Code: SMTP; 550 5.1.1 <{rcpt}>... User unknown
Last-Attempt-Date: Mon, 30 Nov 2026 09:12:03 GMT

--5AU9C3xQ012345.1764493923/relay.news.example.com
Content-Type: text/rfc822-headers

{original}
--5AU9C3xQ012345.1764493923/relay.news.example.com--
""")


def exim_dsn(verp, rcpt, original):
    return _crlf(f"""Return-path: <>
Envelope-to: {verp}
Delivery-date: Mon, 30 Nov 2026 09:12:03 +0000
X-Failed-Recipients: {rcpt}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@exim.news.example.com>
To: {verp}
Content-Type: multipart/report; report-type=delivery-status; boundary=1764493923-eximdsn-1804289383
MIME-Version: 1.0
Subject: Mail delivery failed: returning message to sender
Message-Id: <{_unique()}.E1vPq3X-000Abc-7Q@exim.news.example.com>
Date: Mon, 30 Nov 2026 09:12:03 +0000

--1764493923-eximdsn-1804289383
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {rcpt}
    host mail.example.org [192.0.2.25]
    SMTP error from remote mail server after RCPT TO:<{rcpt}>:
    552 5.2.2 <{rcpt}>: mailbox full

--1764493923-eximdsn-1804289383
Content-type: message/delivery-status

Reporting-MTA: dns; exim.news.example.com

Action: failed
Final-Recipient: rfc822;{rcpt}
Status: 5.0.0
Remote-MTA: dns; mail.example.org
Diagnostic-Code: smtp; 552 5.2.2 <{rcpt}>: mailbox full

--1764493923-eximdsn-1804289383
Content-type: message/rfc822

{original}
(the body)
--1764493923-eximdsn-1804289383--
""")


def exim_plain(verp, rcpt, original):
    """Exim configured without DSN parts: plain text and X-Failed-Recipients."""
    return _crlf(f"""Return-path: <>
Envelope-to: {verp}
X-Failed-Recipients: {rcpt}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@old.example.net>
To: {verp}
Subject: Mail delivery failed: returning message to sender
Message-Id: <{_unique()}.E1vPq3Y-0002Gh-Lm@old.example.net>
Date: Mon, 30 Nov 2026 09:12:03 +0000

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {rcpt}
    SMTP error from remote mail server after RCPT TO:<{rcpt}>:
    host mail.example.org [192.0.2.25]: 550 5.1.1 No such user here

------ This is a copy of the message, including all the headers. ------

{original}
(the body)
""")


def qmail(verp, rcpt, original):
    return _crlf(f"""Return-Path: <>
Delivered-To: {verp}
Date: 30 Nov 2026 09:12:03 -0000
From: MAILER-DAEMON@qmail.example.net
To: {verp}
Subject: failure notice
Message-ID: <{_unique()}.20261130091203.12345.qmail@qmail.example.net>

Hi. This is the qmail-send program at qmail.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{rcpt}>:
192.0.2.25 does not like recipient.
Remote host said: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown
Giving up on 192.0.2.25.

--- Below this line is a copy of the message.

{original}
(the body)
""")


def office365(verp, rcpt, original, *, status="5.1.10"):
    diagnostic = (
        "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
        if status == "5.1.10"
        else f"smtp;550 {status} Service unavailable, Client host [203.0.113.9] blocked using "
        "Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/"
        "203.0.113.9 AS(1450)"
    )
    return _crlf(f"""Received: from AM0PR10MB1234.EURPRD10.PROD.OUTLOOK.COM (2603:10a6:20b:3c::12)
 by AM0PR10MB1234.EURPRD10.PROD.OUTLOOK.COM with mapi id 15.20.8207.017; Mon, 30
 Nov 2026 09:12:03 +0000
MIME-Version: 1.0
From: <postmaster@example.onmicrosoft.com>
To: <{verp}>
Date: Mon, 30 Nov 2026 09:12:03 +0000
Content-Type: multipart/report; report-type=delivery-status;
	boundary="f1a2b3c4-d5e6-7f80-9a0b-c1d2e3f4a5b6"
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
Message-ID: <{_unique()}.0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@AM0PR10MB1234.EURPRD10.PROD.OUTLOOK.COM>
In-Reply-To: <20261130091200.1.abc@news.example.com>
Subject: Undeliverable: The week in review
Auto-Submitted: auto-replied

--f1a2b3c4-d5e6-7f80-9a0b-c1d2e3f4a5b6
Content-Type: multipart/alternative; differences=Content-Type;
	boundary="a0b1c2d3-e4f5-a6b7-c8d9-e0f1a2b3c4d5"

--a0b1c2d3-e4f5-a6b7-c8d9-e0f1a2b3c4d5
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Your message to {rcpt} couldn't be delivered.
{rcpt.split("@")[0]} wasn't found at {rcpt.split("@")[1]}.

Diagnostic information for administrators:
Generating server: AM0PR10MB1234.EURPRD10.PROD.OUTLOOK.COM
{rcpt}
Remote server returned '{diagnostic.removeprefix("smtp;")}'

--a0b1c2d3-e4f5-a6b7-c8d9-e0f1a2b3c4d5
Content-Type: text/html; charset="us-ascii"

<html><body><p>Your message to {rcpt} couldn't be delivered.</p></body></html>

--a0b1c2d3-e4f5-a6b7-c8d9-e0f1a2b3c4d5--

--f1a2b3c4-d5e6-7f80-9a0b-c1d2e3f4a5b6
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR10MB1234.EURPRD10.PROD.OUTLOOK.COM
Received-From-MTA: dns;mx.news.example.com
Arrival-Date: Mon, 30 Nov 2026 09:12:01 +0000

Final-Recipient: rfc822;{rcpt}
Action: failed
Status: {status}
Diagnostic-Code: {diagnostic}

--f1a2b3c4-d5e6-7f80-9a0b-c1d2e3f4a5b6
Content-Type: message/rfc822

{original}
(the body)
--f1a2b3c4-d5e6-7f80-9a0b-c1d2e3f4a5b6--
""")


def gmail(verp, rcpt, original, *, status="4.2.2", action="failed"):
    return _crlf(f"""Delivered-To: {verp}
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {verp}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
Message-ID: <{_unique()}.6745ab12.050a0220.1b2c3d.4e5f.GMR@mx.google.com>
Date: Mon, 30 Nov 2026 01:12:03 -0800 (PST)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000a1b2c3d4e5f6a7b8"; report-type=delivery-status

--000000000000a1b2c3d4e5f6a7b8
Content-Type: text/plain; charset="UTF-8"

** Message not delivered **

Your message couldn't be delivered to {rcpt} because the remote server is
misconfigured. See technical details below for more information.

The response from the remote server was:
452 {status} The recipient's inbox is out of storage space. Please direct the recipient
to https://support.google.com/mail/?p=OverQuotaTemp

--000000000000a1b2c3d4e5f6a7b8
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; mx.news.example.com
Arrival-Date: Mon, 30 Nov 2026 01:12:01 -0800 (PST)
X-Original-Message-ID: <{_unique()}.20261130091200.1.abc@news.example.com>

Final-Recipient: rfc822; {rcpt}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp
Last-Attempt-Date: Mon, 30 Nov 2026 01:12:03 -0800 (PST)

--000000000000a1b2c3d4e5f6a7b8
Content-Type: message/rfc822

{original}
(the body)
--000000000000a1b2c3d4e5f6a7b8--
""")


def arf(original, *, feedback_type="abuse", to="fbl@news.example.com"):
    """A feedback-loop complaint (RFC 5965) enclosing the whole original message."""
    return _crlf(f"""Return-Path: <feedback@arf.mail.example.net>
From: <feedback@arf.mail.example.net>
Date: Mon, 30 Nov 2026 10:00:00 +0000
Subject: FW: The week in review
To: <{to}>
MIME-Version: 1.0
Message-ID: <{_unique()}.arf-20261130-100000-77@arf.mail.example.net>
Content-Type: multipart/report; report-type=feedback-report;
	boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
203.0.113.9 on Mon, 30 Nov 2026 09:12:03 +0000.
For more information about this format please see
http://www.mipassoc.org/arf/.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: ExampleFBL/1.0
Version: 1
Original-Mail-From: <bounces@bounces.news.example.com>
Arrival-Date: Mon, 30 Nov 2026 09:12:03 +0000
Source-IP: 203.0.113.9
Reported-Domain: news.example.com
Reported-Uri: http://testserver/newsletter/

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

{original}
(the body)
--part1_13d.2e68ed54_boundary--
""")


def unsubscribe_request(sender, mailto, token, *, auto_submitted=None):
    """What a mail client sends for the mailto: of List-Unsubscribe (RFC 2369)."""
    auto = f"Auto-Submitted: {auto_submitted}\n" if auto_submitted else ""
    return _crlf(f"""Return-Path: <{sender}>
Delivered-To: {mailto}
From: {sender}
To: {mailto}
Subject: unsubscribe {token}
Message-ID: <{_unique()}.CAF1234567890@mail.example.org>
Date: Mon, 30 Nov 2026 10:00:00 +0000
{auto}MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

This message was automatically generated by Gmail.
""")


def vacation_reply(verp, rcpt):
    return _crlf(f"""Return-Path: <{rcpt}>
Delivered-To: {verp}
From: {rcpt}
To: {verp}
Subject: Out of office: The week in review
Auto-Submitted: auto-replied
Message-ID: <{_unique()}.ooo-1@mail.example.org>
Date: Mon, 30 Nov 2026 10:00:00 +0000

I am away until 14 December with no access to email.
""")
