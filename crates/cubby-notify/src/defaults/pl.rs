//! The built-in templates in Polish.

use super::Defaults;

/// pl: indexed by `NoticeKind as usize`.
pub(super) static PL: [Defaults; 8] = [
    // parcel_ready
    Defaults {
        subject: r#"{{ plural(parcel_count, "Twoja paczka czeka", "Twoje paczki czekają", "Twoje paczki czekają") }} w {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru w {{ locker_name }}, {{ site_name }}.

{% if code %}
Kod odbioru: {{ code }}

{% endif %}
{% if has_qr %}
Możesz też zeskanować przy skrytce kod QR z wersji HTML tej wiadomości.

{% endif %}
{% if expires_at %}
Odbierz do: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru w {{ locker_name }}, {{ site_name }}.</p>
{% if code %}
<p>Kod odbioru: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Możesz też zeskanować ten kod QR przy skrytce:<br>
<img src="{{ qr_src }}" alt="Kod QR do odbioru" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Odbierz do: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru w {{ locker_name }}.{% if code %} Kod {{ code }}.{% endif %}{% if expires_at %} Odbierz do {{ expires_at }}.{% endif %}"#,
    },
    // reminder
    Defaults {
        subject: r#"Przypomnienie: {{ plural(parcel_count, "paczka czeka", "paczki czekają", "paczki czekają") }} w {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Przypominamy, że w {{ locker_name }}, {{ site_name }} nadal masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru.

{% if code %}
Kod odbioru: {{ code }}

{% endif %}
{% if has_qr %}
Możesz też zeskanować przy skrytce kod QR z wersji HTML tej wiadomości.

{% endif %}
{% if expires_at %}
Odbierz do: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Przypominamy, że w {{ locker_name }}, {{ site_name }} nadal masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru.</p>
{% if code %}
<p>Kod odbioru: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Możesz też zeskanować ten kod QR przy skrytce:<br>
<img src="{{ qr_src }}" alt="Kod QR do odbioru" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Odbierz do: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: przypomnienie, masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru w {{ locker_name }}.{% if code %} Kod {{ code }}.{% endif %}{% if expires_at %} Odbierz do {{ expires_at }}.{% endif %}"#,
    },
    // expiring_today
    Defaults {
        subject: r#"Ostatni dzień odbioru w {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Dziś jest ostatni dzień na odbiór {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}, {{ site_name }}. Potem {{ plural(parcel_count, "wróci", "wrócą", "wróci") }} do nadawcy.

{% if code %}
Kod odbioru: {{ code }}

{% endif %}
{% if has_qr %}
Możesz też zeskanować przy skrytce kod QR z wersji HTML tej wiadomości.

{% endif %}
{% if expires_at %}
Odbierz do: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Dziś jest ostatni dzień na odbiór {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}, {{ site_name }}. Potem {{ plural(parcel_count, "wróci", "wrócą", "wróci") }} do nadawcy.</p>
{% if code %}
<p>Kod odbioru: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Możesz też zeskanować ten kod QR przy skrytce:<br>
<img src="{{ qr_src }}" alt="Kod QR do odbioru" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Odbierz do: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: dziś ostatni dzień na odbiór {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}.{% if code %} Kod {{ code }}.{% endif %}{% if expires_at %} Termin: {{ expires_at }}.{% endif %}"#,
    },
    // expired
    Defaults {
        subject: r#"{{ plural(parcel_count, "Nieodebrana paczka", "Nieodebrane paczki", "Nieodebrane paczki") }} w {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Termin odbioru {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}, {{ site_name }} minął. {{ plural(parcel_count, "Przesyłka trafiła", "Przesyłki trafiły", "Przesyłki trafiły") }} do kolejki zwrotów.

Jeśli nadal {{ plural(parcel_count, "jej", "ich", "ich") }} potrzebujesz, jak najszybciej skontaktuj się z obsługą budynku.

-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Termin odbioru {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}, {{ site_name }} minął. {{ plural(parcel_count, "Przesyłka trafiła", "Przesyłki trafiły", "Przesyłki trafiły") }} do kolejki zwrotów.</p>
<p>Jeśli nadal {{ plural(parcel_count, "jej", "ich", "ich") }} potrzebujesz, jak najszybciej skontaktuj się z obsługą budynku.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: minął termin odbioru {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}; {{ plural(parcel_count, "przesyłka trafiła", "przesyłki trafiły", "przesyłki trafiły") }} do kolejki zwrotów. W razie potrzeby skontaktuj się z obsługą."#,
    },
    // returned_to_carrier
    Defaults {
        subject: r#"{{ plural(parcel_count, "Paczka zwrócona", "Paczki zwrócone", "Paczki zwrócone") }} przewoźnikowi"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Nieodebrane paczki z {{ locker_name }}, {{ site_name }} (liczba: {{ parcel_count }}) zostały zwrócone {% if carrier_name %}przewoźnikowi {{ carrier_name }}{% else %}przewoźnikowi{% endif %}.

Skontaktuj się z przewoźnikiem lub nadawcą, aby ustalić ponowną dostawę.

-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Nieodebrane paczki z {{ locker_name }}, {{ site_name }} (liczba: {{ parcel_count }}) zostały zwrócone {% if carrier_name %}przewoźnikowi {{ carrier_name }}{% else %}przewoźnikowi{% endif %}.</p>
<p>Skontaktuj się z przewoźnikiem lub nadawcą, aby ustalić ponowną dostawę.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: nieodebrane paczki z {{ locker_name }} ({{ parcel_count }}) zwrócono {% if carrier_name %}przewoźnikowi {{ carrier_name }}{% else %}przewoźnikowi{% endif %}."#,
    },
    // hold_confirmed
    Defaults {
        subject: r#"Przechowanie potwierdzone – {{ site_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Twoja prośba o przechowanie przesyłek została potwierdzona{% if hold_until %} do {{ hold_until }}{% endif %}.

Paczki, które w tym czasie nadejdą, będą przechowywane w {{ locker_name }}, {{ site_name }} i nie zostaną zwrócone nadawcy.

-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Twoja prośba o przechowanie przesyłek została potwierdzona{% if hold_until %} do {{ hold_until }}{% endif %}.</p>
<p>Paczki, które w tym czasie nadejdą, będą przechowywane w {{ locker_name }}, {{ site_name }} i nie zostaną zwrócone nadawcy.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: przechowanie potwierdzone{% if hold_until %} do {{ hold_until }}{% endif %}. Paczki będą czekać w {{ locker_name }}."#,
    },
    // code_reissued
    Defaults {
        subject: r#"Nowy kod odbioru do {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Wydaliśmy nowy kod odbioru dla {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} w {{ locker_name }}, {{ site_name }}. Poprzedni kod jest już nieważny.

{% if code %}
Kod odbioru: {{ code }}

{% endif %}
{% if has_qr %}
Możesz też zeskanować przy skrytce kod QR z wersji HTML tej wiadomości.

{% endif %}
{% if expires_at %}
Odbierz do: {{ expires_at }}

{% endif %}
Jeśli nowy kod nie był zamawiany przez Ciebie, skontaktuj się z obsługą budynku.

-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Wydaliśmy nowy kod odbioru dla {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} w {{ locker_name }}, {{ site_name }}. Poprzedni kod jest już nieważny.</p>
{% if code %}
<p>Kod odbioru: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Możesz też zeskanować ten kod QR przy skrytce:<br>
<img src="{{ qr_src }}" alt="Kod QR do odbioru" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Odbierz do: {{ expires_at }}</p>
{% endif %}
<p>Jeśli nowy kod nie był zamawiany przez Ciebie, skontaktuj się z obsługą budynku.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: nowy kod odbioru do {{ locker_name }}{% if code %}: {{ code }}{% endif %}. Poprzedni kod jest nieważny."#,
    },
    // escalation
    Defaults {
        subject: r#"Zalegająca paczka: {% if unit %}lokal {{ unit }}{% else %}nieznany lokal{% endif %}, {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

W {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "czeka", "czekają", "czeka") }} {{ parcel_count }} {{ plural(parcel_count, "paczka", "paczki", "paczek") }} dla {% if unit %}lokalu {{ unit }}{% else %}nieznanego lokalu{% endif %}{% if days_waiting %} od {{ days_waiting }} {{ plural(days_waiting, "dnia", "dni", "dni") }}{% endif %}, dłużej niż pozwala limit budynku.

Prosimy o kontakt z mieszkańcem.

-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>W {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "czeka", "czekają", "czeka") }} {{ parcel_count }} {{ plural(parcel_count, "paczka", "paczki", "paczek") }} dla {% if unit %}lokalu {{ unit }}{% else %}nieznanego lokalu{% endif %}{% if days_waiting %} od {{ days_waiting }} {{ plural(days_waiting, "dnia", "dni", "dni") }}{% endif %}, dłużej niż pozwala limit budynku.</p>
<p>Prosimy o kontakt z mieszkańcem.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "paczka", "paczki", "paczek") }} dla {% if unit %}lokalu {{ unit }}{% else %}nieznanego lokalu{% endif %} w {{ locker_name }}{% if days_waiting %} od {{ days_waiting }} {{ plural(days_waiting, "dnia", "dni", "dni") }}{% endif %}."#,
    },
];
