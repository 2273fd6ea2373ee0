//! The built-in templates in German.

use super::Defaults;

/// de: indexed by `NoticeKind as usize`.
pub(super) static DE: [Defaults; 8] = [
    // parcel_ready
    Defaults {
        subject: r#"{{ plural(parcel_count, "Ihr Paket liegt", "Ihre Pakete liegen") }} in {{ locker_name }} bereit"#,
        text: r#"Hallo {{ recipient_name }},

In {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "liegt", "liegen") }} {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} für Sie zur Abholung bereit.

{% if code %}
Abholcode: {{ code }}

{% endif %}
{% if has_qr %}
Sie können am Schließfach auch den QR-Code aus der HTML-Version dieser Nachricht scannen.

{% endif %}
{% if expires_at %}
Abholung bis: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>In {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "liegt", "liegen") }} {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} für Sie zur Abholung bereit.</p>
{% if code %}
<p>Abholcode: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Oder scannen Sie diesen QR-Code am Schließfach:<br>
<img src="{{ qr_src }}" alt="QR-Code zur Abholung" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Abholung bis: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }} abholbereit.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Abholung bis {{ expires_at }}.{% endif %}"#,
    },
    // reminder
    Defaults {
        subject: r#"Erinnerung: {{ plural(parcel_count, "Ein Paket wartet", "Pakete warten") }} in {{ locker_name }}"#,
        text: r#"Hallo {{ recipient_name }},

Zur Erinnerung: In {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "wartet", "warten") }} noch {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} auf Sie.

{% if code %}
Abholcode: {{ code }}

{% endif %}
{% if has_qr %}
Sie können am Schließfach auch den QR-Code aus der HTML-Version dieser Nachricht scannen.

{% endif %}
{% if expires_at %}
Abholung bis: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>Zur Erinnerung: In {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "wartet", "warten") }} noch {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} auf Sie.</p>
{% if code %}
<p>Abholcode: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Oder scannen Sie diesen QR-Code am Schließfach:<br>
<img src="{{ qr_src }}" alt="QR-Code zur Abholung" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Abholung bis: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: Erinnerung, {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Abholung bis {{ expires_at }}.{% endif %}"#,
    },
    // expiring_today
    Defaults {
        subject: r#"Letzter Abholtag in {{ locker_name }}"#,
        text: r#"Hallo {{ recipient_name }},

Heute ist der letzte Tag, um {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} abzuholen. Danach {{ plural(parcel_count, "geht es", "gehen sie") }} an den Absender zurück.

{% if code %}
Abholcode: {{ code }}

{% endif %}
{% if has_qr %}
Sie können am Schließfach auch den QR-Code aus der HTML-Version dieser Nachricht scannen.

{% endif %}
{% if expires_at %}
Abholung bis: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>Heute ist der letzte Tag, um {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} abzuholen. Danach {{ plural(parcel_count, "geht es", "gehen sie") }} an den Absender zurück.</p>
{% if code %}
<p>Abholcode: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Oder scannen Sie diesen QR-Code am Schließfach:<br>
<img src="{{ qr_src }}" alt="QR-Code zur Abholung" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Abholung bis: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: heute letzter Abholtag für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Frist: {{ expires_at }}.{% endif %}"#,
    },
    // expired
    Defaults {
        subject: r#"{{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }} nicht abgeholt"#,
        text: r#"Hallo {{ recipient_name }},

Die Abholfrist für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} ist abgelaufen; {{ plural(parcel_count, "es wurde", "sie wurden") }} in die Rücksendewarteschlange verschoben.

Falls Sie {{ plural(parcel_count, "es", "sie") }} noch benötigen, wenden Sie sich bitte umgehend an das Personal vor Ort.

-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>Die Abholfrist für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} ist abgelaufen; {{ plural(parcel_count, "es wurde", "sie wurden") }} in die Rücksendewarteschlange verschoben.</p>
<p>Falls Sie {{ plural(parcel_count, "es", "sie") }} noch benötigen, wenden Sie sich bitte umgehend an das Personal vor Ort.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: Abholfrist für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }} abgelaufen; zur Rücksendung vorgemerkt. Bei Bedarf bitte das Personal kontaktieren."#,
    },
    // returned_to_carrier
    Defaults {
        subject: r#"{{ plural(parcel_count, "Paket", "Pakete") }} an den Zusteller zurückgegeben"#,
        text: r#"Hallo {{ recipient_name }},

{{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }}, {{ plural(parcel_count, "das", "die") }} nicht aus {{ locker_name }}, {{ site_name }} abgeholt {{ plural(parcel_count, "wurde", "wurden") }}, {{ plural(parcel_count, "wurde", "wurden") }} an {% if carrier_name %}{{ carrier_name }}{% else %}den Zusteller{% endif %} zurückgegeben.

Bitte wenden Sie sich an den Zusteller oder den Absender, um eine neue Zustellung zu vereinbaren.

-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }}, {{ plural(parcel_count, "das", "die") }} nicht aus {{ locker_name }}, {{ site_name }} abgeholt {{ plural(parcel_count, "wurde", "wurden") }}, {{ plural(parcel_count, "wurde", "wurden") }} an {% if carrier_name %}{{ carrier_name }}{% else %}den Zusteller{% endif %} zurückgegeben.</p>
<p>Bitte wenden Sie sich an den Zusteller oder den Absender, um eine neue Zustellung zu vereinbaren.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} aus {{ locker_name }} an {% if carrier_name %}{{ carrier_name }}{% else %}den Zusteller{% endif %} zurückgegeben."#,
    },
    // hold_confirmed
    Defaults {
        subject: r#"Aufbewahrung bestätigt: {{ site_name }}"#,
        text: r#"Hallo {{ recipient_name }},

Ihre Aufbewahrungsanfrage ist bestätigt{% if hold_until %} bis {{ hold_until }}{% endif %}.

Pakete, die in dieser Zeit für Sie ankommen, werden in {{ locker_name }}, {{ site_name }} aufbewahrt und nicht an den Absender zurückgeschickt.

-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>Ihre Aufbewahrungsanfrage ist bestätigt{% if hold_until %} bis {{ hold_until }}{% endif %}.</p>
<p>Pakete, die in dieser Zeit für Sie ankommen, werden in {{ locker_name }}, {{ site_name }} aufbewahrt und nicht an den Absender zurückgeschickt.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: Aufbewahrung bestätigt{% if hold_until %} bis {{ hold_until }}{% endif %}. Pakete bleiben in {{ locker_name }}."#,
    },
    // code_reissued
    Defaults {
        subject: r#"Neuer Abholcode für {{ locker_name }}"#,
        text: r#"Hallo {{ recipient_name }},

Für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} wurde ein neuer Abholcode ausgestellt. Der bisherige Code ist ungültig.

{% if code %}
Abholcode: {{ code }}

{% endif %}
{% if has_qr %}
Sie können am Schließfach auch den QR-Code aus der HTML-Version dieser Nachricht scannen.

{% endif %}
{% if expires_at %}
Abholung bis: {{ expires_at }}

{% endif %}
Falls Sie keinen neuen Code angefordert haben, wenden Sie sich bitte an das Personal vor Ort.

-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>Für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} wurde ein neuer Abholcode ausgestellt. Der bisherige Code ist ungültig.</p>
{% if code %}
<p>Abholcode: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Oder scannen Sie diesen QR-Code am Schließfach:<br>
<img src="{{ qr_src }}" alt="QR-Code zur Abholung" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Abholung bis: {{ expires_at }}</p>
{% endif %}
<p>Falls Sie keinen neuen Code angefordert haben, wenden Sie sich bitte an das Personal vor Ort.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: neuer Abholcode für {{ locker_name }}{% if code %}: {{ code }}{% endif %}. Der bisherige Code ist ungültig."#,
    },
    // escalation
    Defaults {
        subject: r#"Paket überfällig: {% if unit %}Wohnung {{ unit }}{% else %}unbekannte Wohnung{% endif %}, {{ locker_name }}"#,
        text: r#"Hallo {{ recipient_name }},

{{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} für {% if unit %}Wohnung {{ unit }}{% else %}unbekannte Wohnung{% endif %} {{ plural(parcel_count, "liegt", "liegen") }}{% if days_waiting %} seit {{ days_waiting }} {{ plural(days_waiting, "Tag", "Tagen") }}{% endif %} in {{ locker_name }}, {{ site_name }} und {{ plural(parcel_count, "hat", "haben") }} die Frist des Standorts überschritten.

Bitte nehmen Sie Kontakt mit der Bewohnerin oder dem Bewohner auf.

-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} für {% if unit %}Wohnung {{ unit }}{% else %}unbekannte Wohnung{% endif %} {{ plural(parcel_count, "liegt", "liegen") }}{% if days_waiting %} seit {{ days_waiting }} {{ plural(days_waiting, "Tag", "Tagen") }}{% endif %} in {{ locker_name }}, {{ site_name }} und {{ plural(parcel_count, "hat", "haben") }} die Frist des Standorts überschritten.</p>
<p>Bitte nehmen Sie Kontakt mit der Bewohnerin oder dem Bewohner auf.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} für {% if unit %}Wohnung {{ unit }}{% else %}unbekannte Wohnung{% endif %} in {{ locker_name }}{% if days_waiting %} seit {{ days_waiting }} {{ plural(days_waiting, "Tag", "Tagen") }}{% endif %}."#,
    },
];
