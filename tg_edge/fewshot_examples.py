"""Example sentences for the few-shot prompt, written for tg-edge: the same three sentences in each language.

Any two languages listed here form example pairs. A regional code (pt-BR) uses its base language's line.
"""

from __future__ import annotations

from types import MappingProxyType

EXAMPLES = MappingProxyType(
    {
        "en": (
            "The weather is nice today.",
            "Where can I buy a ticket?",
            "Thank you very much for your help.",
        ),
        "de": (
            "Das Wetter ist heute schön.",
            "Wo kann ich eine Fahrkarte kaufen?",
            "Vielen Dank für Ihre Hilfe.",
        ),
        "fr": (
            "Il fait beau aujourd'hui.",
            "Où puis-je acheter un billet ?",
            "Merci beaucoup pour votre aide.",
        ),
        "es": ("Hoy hace buen tiempo.", "¿Dónde puedo comprar un billete?", "Muchas gracias por su ayuda."),
        "it": (
            "Oggi il tempo è bello.",
            "Dove posso comprare un biglietto?",
            "Grazie mille per il suo aiuto.",
        ),
        "pt": ("O tempo está bom hoje.", "Onde posso comprar um bilhete?", "Muito obrigado pela sua ajuda."),
        "nl": (
            "Het weer is mooi vandaag.",
            "Waar kan ik een kaartje kopen?",
            "Heel erg bedankt voor uw hulp.",
        ),
        "pl": ("Dziś jest ładna pogoda.", "Gdzie mogę kupić bilet?", "Bardzo dziękuję za pomoc."),
        "cs": ("Dnes je hezké počasí.", "Kde si můžu koupit jízdenku?", "Moc děkuji za vaši pomoc."),
        "ru": ("Сегодня хорошая погода.", "Где я могу купить билет?", "Большое спасибо за вашу помощь."),
        "uk": ("Сьогодні гарна погода.", "Де я можу купити квиток?", "Щиро дякую за вашу допомогу."),
        "sv": ("Det är fint väder idag.", "Var kan jag köpa en biljett?", "Tack så mycket för din hjälp."),
        "da": ("Det er dejligt vejr i dag.", "Hvor kan jeg købe en billet?", "Mange tak for din hjælp."),
        "no": ("Det er fint vær i dag.", "Hvor kan jeg kjøpe en billett?", "Tusen takk for hjelpen."),
        "fi": ("Tänään on kaunis sää.", "Mistä voin ostaa lipun?", "Kiitos paljon avustasi."),
        "tr": ("Bugün hava çok güzel.", "Nereden bilet alabilirim?", "Yardımınız için çok teşekkür ederim."),
        "el": (
            "Ο καιρός είναι ωραίος σήμερα.",
            "Πού μπορώ να αγοράσω εισιτήριο;",
            "Σας ευχαριστώ πολύ για τη βοήθειά σας.",
        ),
        "hu": ("Ma szép idő van.", "Hol tudok jegyet venni?", "Nagyon köszönöm a segítségét."),
        "ro": (
            "Astăzi vremea este frumoasă.",
            "De unde pot cumpăra un bilet?",
            "Vă mulțumesc mult pentru ajutor.",
        ),
        "ca": ("Avui fa bon temps.", "On puc comprar un bitllet?", "Moltes gràcies per la vostra ajuda."),
        "ar": ("الطقس جميل اليوم.", "أين يمكنني شراء تذكرة؟", "شكرا جزيلا على مساعدتك."),
        "he": ("מזג האוויר יפה היום.", "איפה אפשר לקנות כרטיס?", "תודה רבה על העזרה."),
        "hi": ("आज मौसम अच्छा है।", "मैं टिकट कहाँ से खरीद सकता हूँ?", "आपकी मदद के लिए बहुत धन्यवाद।"),
        "ja": (
            "今日はいい天気です。",
            "チケットはどこで買えますか？",
            "助けていただき、本当にありがとうございます。",
        ),
        "ko": ("오늘 날씨가 좋네요.", "표는 어디에서 살 수 있나요?", "도와주셔서 정말 감사합니다."),
        "zh-Hans": ("今天天气很好。", "我在哪里可以买到票？", "非常感谢你的帮助。"),
        "zh-Hant": ("今天天氣很好。", "我在哪裡可以買到票？", "非常感謝你的幫助。"),
        "vi": ("Hôm nay trời đẹp.", "Tôi có thể mua vé ở đâu?", "Cảm ơn bạn rất nhiều vì đã giúp đỡ."),
        "id": (
            "Cuaca hari ini bagus.",
            "Di mana saya bisa membeli tiket?",
            "Terima kasih banyak atas bantuan Anda.",
        ),
    }
)

RETRY_EXAMPLES = MappingProxyType(
    {
        "en": (
            "The city council announced on Tuesday that the old railway station will become a public library next year.",
            "According to the researchers, the new vaccine protected most volunteers, although some reported mild side effects.",
            "Thank you very much for your help.",
        ),
        "de": (
            "Der Stadtrat gab am Dienstag bekannt, dass der alte Bahnhof im nächsten Jahr zu einer öffentlichen Bibliothek wird.",
            "Nach Angaben der Forscher schützte der neue Impfstoff die meisten Freiwilligen, obwohl einige leichte Nebenwirkungen meldeten.",
            "Vielen Dank für Ihre Hilfe.",
        ),
        "fr": (
            "Le conseil municipal a annoncé mardi que l'ancienne gare deviendrait une bibliothèque publique l'année prochaine.",
            "Selon les chercheurs, le nouveau vaccin a protégé la plupart des volontaires, même si certains ont signalé des effets secondaires légers.",
            "Merci beaucoup pour votre aide.",
        ),
        "es": (
            "El ayuntamiento anunció el martes que la antigua estación de tren se convertirá en una biblioteca pública el próximo año.",
            "Según los investigadores, la nueva vacuna protegió a la mayoría de los voluntarios, aunque algunos informaron de efectos secundarios leves.",
            "Muchas gracias por su ayuda.",
        ),
        "it": (
            "Martedì il consiglio comunale ha annunciato che la vecchia stazione ferroviaria diventerà una biblioteca pubblica l'anno prossimo.",
            "Secondo i ricercatori, il nuovo vaccino ha protetto la maggior parte dei volontari, anche se alcuni hanno segnalato lievi effetti collaterali.",
            "Grazie mille per il suo aiuto.",
        ),
        "pt": (
            "A câmara municipal anunciou na terça-feira que a antiga estação ferroviária se tornará uma biblioteca pública no próximo ano.",
            "Segundo os pesquisadores, a nova vacina protegeu a maioria dos voluntários, embora alguns tenham relatado efeitos colaterais leves.",
            "Muito obrigado pela sua ajuda.",
        ),
        "nl": (
            "De gemeenteraad maakte dinsdag bekend dat het oude treinstation volgend jaar een openbare bibliotheek wordt.",
            "Volgens de onderzoekers beschermde het nieuwe vaccin de meeste vrijwilligers, hoewel sommigen lichte bijwerkingen meldden.",
            "Heel erg bedankt voor uw hulp.",
        ),
        "ru": (
            "Во вторник городской совет объявил, что старый железнодорожный вокзал в следующем году станет публичной библиотекой.",
            "По словам исследователей, новая вакцина защитила большинство добровольцев, хотя некоторые сообщили о лёгких побочных эффектах.",
            "Большое спасибо за вашу помощь.",
        ),
        "tr": (
            "Belediye meclisi salı günü eski tren istasyonunun gelecek yıl halk kütüphanesine dönüştürüleceğini duyurdu.",
            "Araştırmacılara göre yeni aşı gönüllülerin çoğunu korudu, ancak bazıları hafif yan etkiler bildirdi.",
            "Yardımınız için çok teşekkür ederim.",
        ),
    }
)
"""Longer example sentences for a retry: a unit whose translation came back in the wrong language (often a
copy of a long source sentence) is prompted again with these, so greedy decoding does not repeat itself."""
