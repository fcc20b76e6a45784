"""The TT3 absence notice as a printable PDF in Finnish or Swedish (ATT-6). The attendance
service never knows the hetu (DATA-4): the official adds it from the client information system."""

from __future__ import annotations

from ktt_attendance.notices.models import AbsenceNotice
from ktt_attendance.pdf import LANGUAGES, fi_date, language, new_document

__all__ = ["LANGUAGES", "TEXTS", "language", "render_pdf"]

TEXTS: dict[str, dict[str, str]] = {
    "fi": {
        "title": "Ilmoitus poissaoloista kuntouttavasta työtoiminnasta (Kela TT3)",
        "city": "Turun kaupunki",
        "recipient": "Vastaanottaja", "kela": "Kela", "unemployment_fund": "Työttömyyskassa",
        "client": "Asiakas (tunniste)", "hetu": "Henkilötunnus lisätään asiakastietojärjestelmästä.",
        "period": "Tarkastelujakso", "days": "Poissaolopäivät", "date": "Päivä", "reason": "Syy", "authorised": "Luvallinen",
        "yes": "kyllä", "no": "ei", "authority": "Poissaolot voivat johtaa toiminnan keskeyttämiseen: ilmoitus myös työvoimaviranomaiselle.",
        "total": "Poissaoloja yhteensä {n}, joista luvattomia {u}.",
        "sick_with_certificate": "sairaus, todistus", "sick_without_certificate": "sairaus, ei todistusta",
        "doctor_visit": "lääkärikäynti", "child_illness": "lapsen sairaus", "job_interview": "työhaastattelu",
        "other_authorised": "muu sovittu poissaolo", "unauthorised": "luvaton poissaolo",
        "sent_away_influence": "päihtyneenä, lähetetty pois",
    },
    "sv": {
        "title": "Anmälan om frånvaro från arbetsverksamhet i rehabiliteringssyfte (FPA TT3)",
        "city": "Åbo stad",
        "recipient": "Mottagare", "kela": "FPA", "unemployment_fund": "Arbetslöshetskassa",
        "client": "Klient (identifierare)", "hetu": "Personbeteckningen fylls i från klientdatasystemet.",
        "period": "Granskningsperiod", "days": "Frånvarodagar", "date": "Dag", "reason": "Orsak", "authorised": "Tillåten",
        "yes": "ja", "no": "nej", "authority": "Frånvaron kan leda till avbrott: anmälan även till arbetskraftsmyndigheten.",
        "total": "Frånvaro sammanlagt {n}, varav otillåten {u}.",
        "sick_with_certificate": "sjukdom, intyg", "sick_without_certificate": "sjukdom, inget intyg",
        "doctor_visit": "läkarbesök", "child_illness": "barns sjukdom", "job_interview": "arbetsintervju",
        "other_authorised": "annan överenskommen frånvaro", "unauthorised": "otillåten frånvaro",
        "sent_away_influence": "påverkad, skickad hem",
    },
}


def render_pdf(notice: AbsenceNotice, lang: str) -> bytes:
    t = TEXTS[lang]
    pdf = new_document(t["title"], t["city"], lang)
    recipient = t[notice.recipient] + (f" ({notice.fund_name})" if notice.fund_name else "")
    pdf.labelled_rows(((t["recipient"], recipient), (t["client"], str(notice.client_id)),
                       (t["period"], f"{fi_date(notice.period_start)} \u2013 {fi_date(notice.period_end)}")), 50)
    pdf.paragraph(t["hetu"], size=9, style="I", space_after=3)
    pdf.heading(t["days"], 2)
    pdf.grid([t["date"], t["reason"], t["authorised"]],
             ([fi_date(day["date"]), t.get(day["reason"] or "", day["reason"] or ""), t["yes"] if day["authorised"] else t["no"]]
              for day in notice.days), [30, 100, 30])
    pdf.paragraph(t["total"].format(n=notice.absence_days, u=notice.unauthorised_days))
    if notice.to_employment_authority:
        pdf.paragraph(t["authority"])
    return pdf.output()
