// brise: the Brise command line. The commands live in BriseCommands, where tests can reach them.
import ArgumentParser
import BriseCommands

@main
struct BriseMain {
    static func main() async {
        await Brise.main()
    }
}
