//! The built-in templates in English.

use super::Defaults;

/// en: indexed by `NoticeKind as usize`.
pub(super) static EN: [Defaults; 8] = [
    // parcel_ready
    Defaults {
        subject: r#"{{ plural(parcel_count, "Your parcel is", "Your parcels are") }} ready at {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} {{ plural(parcel_count, "is", "are") }} waiting for you at {{ locker_name }}, {{ site_name }}.

{% if code %}
Pick-up code: {{ code }}

{% endif %}
{% if has_qr %}
You can also scan the QR code at the locker: it is in the HTML version of this message.

{% endif %}
{% if expires_at %}
Pick up by: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} {{ plural(parcel_count, "is", "are") }} waiting for you at {{ locker_name }}, {{ site_name }}.</p>
{% if code %}
<p>Pick-up code: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Or scan this QR code at the locker:<br>
<img src="{{ qr_src }}" alt="QR code for pick-up" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Pick up by: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} ready at {{ locker_name }}.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Pick up by {{ expires_at }}.{% endif %}"#,
    },
    // reminder
    Defaults {
        subject: r#"Reminder: {{ plural(parcel_count, "a parcel is", "parcels are") }} waiting at {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

A reminder that {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} {{ plural(parcel_count, "is", "are") }} still waiting for you at {{ locker_name }}, {{ site_name }}.

{% if code %}
Pick-up code: {{ code }}

{% endif %}
{% if has_qr %}
You can also scan the QR code at the locker: it is in the HTML version of this message.

{% endif %}
{% if expires_at %}
Pick up by: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>A reminder that {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} {{ plural(parcel_count, "is", "are") }} still waiting for you at {{ locker_name }}, {{ site_name }}.</p>
{% if code %}
<p>Pick-up code: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Or scan this QR code at the locker:<br>
<img src="{{ qr_src }}" alt="QR code for pick-up" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Pick up by: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: reminder, {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} waiting at {{ locker_name }}.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Pick up by {{ expires_at }}.{% endif %}"#,
    },
    // expiring_today
    Defaults {
        subject: r#"Last day to collect from {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

Today is the last day to collect {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} from {{ locker_name }}, {{ site_name }}. After that {{ plural(parcel_count, "it goes", "they go") }} back to the sender.

{% if code %}
Pick-up code: {{ code }}

{% endif %}
{% if has_qr %}
You can also scan the QR code at the locker: it is in the HTML version of this message.

{% endif %}
{% if expires_at %}
Pick up by: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>Today is the last day to collect {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} from {{ locker_name }}, {{ site_name }}. After that {{ plural(parcel_count, "it goes", "they go") }} back to the sender.</p>
{% if code %}
<p>Pick-up code: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Or scan this QR code at the locker:<br>
<img src="{{ qr_src }}" alt="QR code for pick-up" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Pick up by: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: last day to collect {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} from {{ locker_name }}.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Deadline {{ expires_at }}.{% endif %}"#,
    },
    // expired
    Defaults {
        subject: r#"{{ plural(parcel_count, "Parcel", "Parcels") }} not collected at {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

The pick-up period for {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} at {{ locker_name }}, {{ site_name }} has ended, and {{ plural(parcel_count, "it has", "they have") }} been moved to the return queue.

If you still need {{ plural(parcel_count, "it", "them") }}, please contact the site staff as soon as possible.

-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>The pick-up period for {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} at {{ locker_name }}, {{ site_name }} has ended, and {{ plural(parcel_count, "it has", "they have") }} been moved to the return queue.</p>
<p>If you still need {{ plural(parcel_count, "it", "them") }}, please contact the site staff as soon as possible.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: the pick-up period for {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} at {{ locker_name }} has ended; moved to the return queue. Contact the site staff if you still need {{ plural(parcel_count, "it", "them") }}."#,
    },
    // returned_to_carrier
    Defaults {
        subject: r#"{{ plural(parcel_count, "Parcel", "Parcels") }} returned to the carrier"#,
        text: r#"Hello {{ recipient_name }},

{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} not collected from {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "has", "have") }} been handed back to {% if carrier_name %}{{ carrier_name }}{% else %}the carrier{% endif %}.

Please contact the carrier or the sender to arrange a new delivery.

-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} not collected from {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "has", "have") }} been handed back to {% if carrier_name %}{{ carrier_name }}{% else %}the carrier{% endif %}.</p>
<p>Please contact the carrier or the sender to arrange a new delivery.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} not collected from {{ locker_name }} returned to {% if carrier_name %}{{ carrier_name }}{% else %}the carrier{% endif %}."#,
    },
    // hold_confirmed
    Defaults {
        subject: r#"Hold confirmed at {{ site_name }}"#,
        text: r#"Hello {{ recipient_name }},

Your hold request is confirmed{% if hold_until %} until {{ hold_until }}{% endif %}.

Parcels that arrive for you in the meantime will be kept at {{ locker_name }}, {{ site_name }} and not returned to the sender.

-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>Your hold request is confirmed{% if hold_until %} until {{ hold_until }}{% endif %}.</p>
<p>Parcels that arrive for you in the meantime will be kept at {{ locker_name }}, {{ site_name }} and not returned to the sender.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: hold confirmed{% if hold_until %} until {{ hold_until }}{% endif %}. Parcels will be kept at {{ locker_name }}."#,
    },
    // code_reissued
    Defaults {
        subject: r#"New pick-up code for {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

A new pick-up code was issued for {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} at {{ locker_name }}, {{ site_name }}. The previous code no longer works.

{% if code %}
Pick-up code: {{ code }}

{% endif %}
{% if has_qr %}
You can also scan the QR code at the locker: it is in the HTML version of this message.

{% endif %}
{% if expires_at %}
Pick up by: {{ expires_at }}

{% endif %}
If you did not ask for a new code, please contact the site staff.

-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>A new pick-up code was issued for {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} at {{ locker_name }}, {{ site_name }}. The previous code no longer works.</p>
{% if code %}
<p>Pick-up code: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Or scan this QR code at the locker:<br>
<img src="{{ qr_src }}" alt="QR code for pick-up" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Pick up by: {{ expires_at }}</p>
{% endif %}
<p>If you did not ask for a new code, please contact the site staff.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: new pick-up code for {{ locker_name }}{% if code %}: {{ code }}{% endif %}. The previous code no longer works."#,
    },
    // escalation
    Defaults {
        subject: r#"Parcel overdue: {% if unit %}unit {{ unit }}{% else %}unknown unit{% endif %}, {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} for {% if unit %}unit {{ unit }}{% else %}an unknown unit{% endif %} {{ plural(parcel_count, "has", "have") }} been waiting in {{ locker_name }}, {{ site_name }}{% if days_waiting %} for {{ days_waiting }} {{ plural(days_waiting, "day", "days") }}{% endif %}, past the site's threshold.

Please follow up with the resident.

-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} for {% if unit %}unit {{ unit }}{% else %}an unknown unit{% endif %} {{ plural(parcel_count, "has", "have") }} been waiting in {{ locker_name }}, {{ site_name }}{% if days_waiting %} for {{ days_waiting }} {{ plural(days_waiting, "day", "days") }}{% endif %}, past the site's threshold.</p>
<p>Please follow up with the resident.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} for {% if unit %}unit {{ unit }}{% else %}an unknown unit{% endif %} waiting in {{ locker_name }}{% if days_waiting %} for {{ days_waiting }} {{ plural(days_waiting, "day", "days") }}{% endif %}."#,
    },
];
